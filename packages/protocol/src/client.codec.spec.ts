import { CommandId } from './command-id';
import { decodeBody, encodeMessageFrame } from './codec';
import { decodeClientBody, encodeClientFrame } from './client.codec';
import { FRAME_HEADER_LENGTH, readHeader } from './frame.bytes';
import { toId } from './ids';
import { decodeWsMessage } from './ws-message';

// The SDK's browser build encodes with the slim generated module, the server with the full one:
// the bytes must be the same, or a browser would speak a dialect.
describe('client codec', () => {
  const msg = {
    fromUserId: 7,
    toSessionId: 9_007_199_254_740_991, // 2^53 - 1: the largest id, across the uint64 path
    clientMsgId: 'b3c0f4a2-1d2e-4f00-9a00-0123456789ab',
    serverMsgId: 42,
    createTime: 1_700_000_000,
    msgType: 1,
    sessionType: 1,
    msgData: new TextEncoder().encode('héllo'),
  };

  it('parity - a client frame is byte for byte the server frame', () => {
    const client = encodeClientFrame(CommandId.MSG_DATA, 5, msg);
    const server = encodeMessageFrame(CommandId.MSG_DATA, 5, msg);
    expect(client).not.toBeInstanceOf(Buffer);
    expect(Buffer.from(client).equals(server)).toBe(true);
    expect(readHeader(client)).toMatchObject({
      length: client.length,
      commandId: CommandId.MSG_DATA,
      seq: 5,
    });
  });

  it('parity - each side decodes what the other encoded', () => {
    const fromServer = encodeMessageFrame(CommandId.MSG_DATA, 1, msg).subarray(FRAME_HEADER_LENGTH);
    const decoded = decodeClientBody(CommandId.MSG_DATA, fromServer);
    expect(toId(decoded.toSessionId)).toBe(msg.toSessionId);
    expect(new TextDecoder().decode(decoded.msgData)).toBe('héllo');
    const fromClient = encodeClientFrame(CommandId.GROUP_CREATE_DEFAULT_REQ, 2, {
      userId: 1,
      groupName: 'g',
      memberIdList: [2, 3],
    }).subarray(FRAME_HEADER_LENGTH);
    const req = decodeBody(CommandId.GROUP_CREATE_DEFAULT_REQ, fromClient);
    expect(req.groupName).toBe('g');
    expect(req.memberIdList.map((id) => toId(id))).toEqual([2, 3]);
  });

  it('errors - a body that is not protobuf is IM_ERR_BAD_BODY, an unknown command IM_ERR_UNKNOWN_COMMAND', () => {
    expect(() => decodeClientBody(CommandId.MSG_DATA, new Uint8Array([0xff, 0xff, 0xff]))).toThrow(
      expect.objectContaining({ code: 'IM_ERR_BAD_BODY' }),
    );
    expect(() => decodeClientBody(0x7777, new Uint8Array(0))).toThrow(
      expect.objectContaining({ code: 'IM_ERR_UNKNOWN_COMMAND' }),
    );
  });

  it('ws message - exactly one frame per message, from an ArrayBuffer, else IM_ERR_FRAME_LENGTH', () => {
    const frame = encodeClientFrame(CommandId.LOGIN_HEARTBEAT, 3, {});
    const copy = frame.slice().buffer;
    expect(decodeWsMessage(copy)).toMatchObject({ commandId: CommandId.LOGIN_HEARTBEAT, seq: 3 });
    const twice = new Uint8Array(frame.length * 2);
    twice.set(frame);
    twice.set(frame, frame.length);
    expect(() => decodeWsMessage(twice)).toThrow(expect.objectContaining({ code: 'IM_ERR_FRAME_LENGTH' }));
    expect(() => decodeWsMessage(frame.subarray(0, 10))).toThrow(
      expect.objectContaining({ code: 'IM_ERR_FRAME_LENGTH' }),
    );
    expect(() => decodeWsMessage(frame, { maxFrameLength: FRAME_HEADER_LENGTH })).not.toThrow();
  });
});
