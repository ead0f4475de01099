import { CommandId } from './command-id';
import { CIM, mqim } from './generated/proto';

/**
 * A GateBatch that closes the given connections of one gate after sending each the 0x0801
 * kick-out notice. Logic (login policy) and api (admin kick) both send it.
 */
export function encodeKickBatch(connIds: readonly string[], reason: number, text: string): Uint8Array {
  const body = CIM.Ext.MqimKickOutNotify.encode({ reason, text }).finish();
  return mqim.v1.GateBatch.encode({
    commands: connIds.map((connId) => ({
      action: mqim.v1.GateAction.GATE_ACTION_KICK,
      connId,
      cmd: CommandId.KICK_OUT_NOTIFY,
      body,
      reason: text,
    })),
  }).finish();
}

/** One GateBatch message holding `commands` in order. */
export function encodeGateBatch(commands: readonly mqim.v1.IGateCommand[]): Uint8Array {
  return mqim.v1.GateBatch.encode({ commands: commands as mqim.v1.IGateCommand[] }).finish();
}

/** An upper estimate of a command's encoded size, for batch size bounds (the bound matters, not exactness). */
export function gateCommandBytes(c: mqim.v1.IGateCommand): number {
  return (
    (c.body?.length ?? 0) +
    (c.userIds?.length ?? 0) * 11 +
    (c.connId?.length ?? 0) +
    (c.excludeConnId?.length ?? 0) +
    (c.reason?.length ?? 0) +
    48
  );
}
