import { CIM } from './generated/proto';

/**
 * The MSG_DATA_ACK (0x0302) of a send the server refused — at the gate (limits, draining) or in
 * logic (forbidden, unknown peer): `res_code` is not OK and there is no server id, so the client
 * knows the message was not stored; an ERROR_NOTIFY sent with it says why.
 */
export function encodeRefusedSendAck(
  fromUserId: number,
  send: Pick<CIM.Message.ICIMMsgData, 'toSessionId' | 'clientMsgId' | 'sessionType'>,
): Uint8Array {
  return CIM.Message.CIMMsgDataAck.encode({
    fromUserId,
    toSessionId: send.toSessionId ?? 0,
    clientMsgId: send.clientMsgId ?? '',
    serverMsgId: 0,
    resCode: CIM.Def.CIMResCode.RES_CODE_UNKNOWN,
    sessionType: send.sessionType ?? 0,
    createTime: Math.floor(Date.now() / 1000),
  }).finish();
}
