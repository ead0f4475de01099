import { ClientCapability, CommandId } from '@mqim/protocol';
import { Connection, type FrameSink } from './connection';
import { hiddenFromLegacy } from './legacy.filter';

const sink: FrameSink = { write: () => undefined, pendingBytes: () => 0, close: () => undefined };
function conn(userId: number, capabilities = 0): Connection {
  const c = new Connection('c1', 'tcp', '127.0.0.1:1', sink, { perSecond: 100, burst: 100 }, 0);
  c.userId = userId;
  c.capabilities = capabilities;
  return c;
}
const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// CIMMsgData from user 1001 (08 e907) to user 1002 (18 ea07), client_msg_id "m1" (22 02 6d31),
// server_msg_id 5 (28 05), msg_type (38 ..), session_type single (40 01), msg_data "hi" (4a 02 6869).
const msgData = (type: string) => hex(`08e907 18ea07 2202 6d31 2805 38${type} 4001 4a02 6869`);
// CIMMsgDataAck: from 1001, to 1002, "m1", res_code (28 ..) - field 5 is res_code.
const ack = (resCode: string) => hex(`08e907 10ea07 1a02 6d31 ${resCode}`);

describe('gate legacy filter - what CoffeeChat clients would misread (issue 12 #3, #4)', () => {
  it('self-copy - a text message from the connection user is hidden from a legacy connection', () => {
    expect(hiddenFromLegacy(conn(1001), CommandId.MSG_DATA, msgData('01'))).toBe(true);
  });

  it('self-copy - delivered to a client that announced self-sync, and to the peer', () => {
    expect(hiddenFromLegacy(conn(1001, ClientCapability.SELF_SYNC), CommandId.MSG_DATA, msgData('01'))).toBe(
      false,
    );
    expect(hiddenFromLegacy(conn(1002), CommandId.MSG_DATA, msgData('01'))).toBe(false);
  });

  it('self-copy - the AVCHAT record of a call still reaches its author, as CoffeeChat sent it', () => {
    expect(hiddenFromLegacy(conn(1001), CommandId.MSG_DATA, msgData('0a'))).toBe(false);
  });

  it('refused ack - res_code not OK is hidden from a legacy connection; OK acks and capable clients get theirs', () => {
    expect(hiddenFromLegacy(conn(1001), CommandId.MSG_DATA_ACK, ack(''))).toBe(true);
    expect(hiddenFromLegacy(conn(1001), CommandId.MSG_DATA_ACK, ack('2005 2801'))).toBe(false);
    expect(
      hiddenFromLegacy(conn(1001, ClientCapability.REFUSED_SEND_ACK), CommandId.MSG_DATA_ACK, ack('')),
    ).toBe(false);
  });

  it('other frames pass, and a body that does not decode is not second-guessed', () => {
    expect(hiddenFromLegacy(conn(1001), CommandId.VOIP_BYE_NOTIFY, hex('08e907'))).toBe(false);
    expect(hiddenFromLegacy(conn(1001), CommandId.MSG_DATA, hex('08e907 0aff'))).toBe(false);
  });
});
