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
