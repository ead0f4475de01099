import { CIM } from './generated/proto';
import { longToNumber } from './ids';
import { encodeRefusedSendAck } from './send-ack';

describe('send ack - a refused send', () => {
  it('refused - names the message, carries no server id and a res_code that is not OK', () => {
    const ack = CIM.Message.CIMMsgDataAck.decode(
      encodeRefusedSendAck(7, { toSessionId: 9, clientMsgId: 'c-1', sessionType: 2 }),
    );
    expect([
      longToNumber(ack.fromUserId),
      longToNumber(ack.toSessionId),
      ack.clientMsgId,
      ack.sessionType,
    ]).toEqual([7, 9, 'c-1', 2]);
    expect(longToNumber(ack.serverMsgId)).toBe(0);
    expect(ack.resCode).not.toBe(CIM.Def.CIMResCode.RES_CODE_OK);
  });
});
