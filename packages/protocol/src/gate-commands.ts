import { CommandId } from './command-id';
import { CIM, mqim } from './generated/proto';

/** The 0x0801 body: why the server is about to close the connection (`KickOutReason`) and a text for people. */
export function kickOutNotice(reason: number, text: string): Uint8Array {
  return CIM.Ext.MqimKickOutNotify.encode({ reason, text }).finish();
}

/**
 * The gate commands that close the given connections of one gate after sending each the 0x0801
 * kick-out notice. The only builder of kick commands: logic (login policy) and api (admin kick)
 * publish them through `publishKicks` (@mqim/delivery); a draining gate writes the same notice itself.
 */
export function kickCommands(
  connIds: readonly string[],
  reason: number,
  text: string,
): mqim.v1.IGateCommand[] {
  const body = kickOutNotice(reason, text);
  return connIds.map((connId) => ({
    action: mqim.v1.GateAction.GATE_ACTION_KICK,
    connId,
    cmd: CommandId.KICK_OUT_NOTIFY,
    body,
    reason: text,
  }));
}

/** `kickCommands` as one GateBatch message (what `publishKicks` puts on a gate's topic). */
export function encodeKickBatch(connIds: readonly string[], reason: number, text: string): Uint8Array {
  return encodeGateBatch(kickCommands(connIds, reason, text));
}

/** One GateBatch message holding `commands` in order. */
export function encodeGateBatch(commands: readonly mqim.v1.IGateCommand[]): Uint8Array {
  return mqim.v1.GateBatch.encode({ commands: commands as mqim.v1.IGateCommand[] }).finish();
}
