import { CIM, ClientCapability, CommandId } from '@mqim/protocol';
import type { Connection } from './connection';

/** Server-made messages CoffeeChat's own server sent to their author too (the AVCHAT record of a call). */
const TO_AUTHOR_TOO = new Set<number>([
  CIM.Def.CIMMsgType.MSG_TYPE_AVCHAT,
  CIM.Def.CIMMsgType.MSG_TYPE_TIPS,
  CIM.Def.CIMMsgType.MSG_TYPE_NOTIFICATION,
]);

/**
 * Whether a frame must not reach this connection because it is one of CoffeeChat's clients (it
 * announced no capability with 0x0803) and would misread it (docs/adr/0012):
 *
 * - a copy of the user's own send (0x0301, from_user_id = the connection's user) — those clients
 *   file it in a chat with themselves and send receipts to themselves. Server-made records
 *   (AVCHAT, tips, notifications) still go, as CoffeeChat sent them;
 * - a refused send's 0x0302 (res_code != OK) — those clients never read res_code and would show
 *   the message as sent; the 0x0802 that follows still goes, and the message times out as unsent.
 *
 * Cheap on the common path: a delivery is decoded only when its first field (from_user_id, which
 * our encoder writes first) is the connection's own user.
 */
export function hiddenFromLegacy(conn: Connection, cmd: number, body: Uint8Array): boolean {
  if (cmd === CommandId.MSG_DATA) {
    if (conn.capabilities & ClientCapability.SELF_SYNC || conn.userId === 0) return false;
    if (leadingUint(body, 0x08) !== conn.userId) return false;
    try {
      return !TO_AUTHOR_TOO.has(CIM.Message.CIMMsgData.decode(body).msgType);
    } catch {
      return false;
    }
  }
  if (cmd === CommandId.MSG_DATA_ACK) {
    if (conn.capabilities & ClientCapability.REFUSED_SEND_ACK) return false;
    try {
      return CIM.Message.CIMMsgDataAck.decode(body).resCode !== CIM.Def.CIMResCode.RES_CODE_OK;
    } catch {
      return false;
    }
  }
  return false;
}

/** The varint at the start of `body` when it begins with `tag`, else -1 (up to 2^53 exactly). */
function leadingUint(body: Uint8Array, tag: number): number {
  if (body.length < 2 || body[0] !== tag) return -1;
  let value = 0;
  let scale = 1;
  for (let i = 1; i < body.length && i < 10; i++) {
    const b = body[i]!;
    value += (b & 0x7f) * scale;
    if ((b & 0x80) === 0) return value;
    scale *= 128;
  }
  return -1;
}
