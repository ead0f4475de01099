import Long from 'long';
import { util } from 'protobufjs/minimal';
import { decodeBody, encodeBody, encodeMessageFrame } from './codec';
import { CommandId } from './command-id';
import { ProtocolError } from './error-codes';
import { encodeFrame } from './frame.codec';
import { CIM } from './generated/proto';
import { toId, toIds } from './ids';

// Expected bytes below are worked out by hand from the protobuf wire format (tag = field << 3 |
// wire type; varints little-endian 7 bits at a time), not produced by the code under test.
// 10001 = 0x2711 -> varint 91 4e; 10002 -> 92 4e; 1700000000 -> 80 e2 cf aa 06; 200 -> c8 01.
const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const hexOf = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('message bodies on the wire', () => {
  it('wire - CIMAuthTokenReq', () => {
    const bytes = hex(
      '08 914e' + // user_id = 10001
        '12 03 626f62' + // nick_name = "bob"
        '1a 03 616263' + // user_token = "abc"
        '20 01' + // client_type = ANDROID
        '2a 03 312e30', // client_version = "1.0"
    );
    const body = {
      userId: 10001,
      nickName: 'bob',
      userToken: 'abc',
      clientType: CIM.Def.CIMClientType.CLIENT_TYPE_ANDROID,
      clientVersion: '1.0',
    };
    expect(hexOf(encodeBody(CommandId.LOGIN_AUTH_TOKEN_REQ, body))).toBe(bytes.toString('hex'));
    const req = decodeBody(CommandId.LOGIN_AUTH_TOKEN_REQ, bytes);
    expect(toId(req.userId)).toBe(10001);
    expect(req).toMatchObject({ nickName: 'bob', userToken: 'abc', clientType: 1, clientVersion: '1.0' });
  });

  it('wire - CIMAuthTokenRsp with a nested CIMUserInfo', () => {
    const bytes = hex(
      '08 80e2cfaa06' + // server_time = 1700000000
        '10 c801' + // result_code = SUCCESS (200)
        '1a 02 6f6b' + // result_string = "ok"
        '22 08 08914e 1203626f62', // user_info = { user_id 10001, nick_name "bob" }
    );
    const rsp = {
      serverTime: 1700000000,
      resultCode: CIM.Def.CIMErrorCode.ERR_SUCCESS,
      resultString: 'ok',
      userInfo: { userId: 10001, nickName: 'bob' },
    };
    expect(hexOf(encodeBody(CommandId.LOGIN_AUTH_TOKEN_RSP, rsp))).toBe(bytes.toString('hex'));
    const back = decodeBody(CommandId.LOGIN_AUTH_TOKEN_RSP, bytes);
    expect(back.serverTime).toBe(1700000000);
    expect(back.resultCode).toBe(200);
    expect(toId(back.userInfo!.userId!)).toBe(10001);
    // CIMAuthRsp (0x0108) shares the layout.
    expect(hexOf(encodeBody(CommandId.LOGIN_AUTH_RSP, rsp))).toBe(bytes.toString('hex'));
  });

  it('wire - CIMMsgData', () => {
    const bytes = hex(
      '08 914e' + // from_user_id = 10001
        '12 03 626f62' + // from_nick_name = "bob"
        '18 924e' + // to_session_id = 10002
        '22 02 7531' + // client_msg_id = "u1"
        '28 07' + // server_msg_id = 7
        '30 80e2cfaa06' + // create_time = 1700000000
        '38 01' + // msg_type = TEXT
        '40 01' + // session_type = SINGLE
        '4a 02 6869', // msg_data = "hi"
    );
    const msg = {
      fromUserId: 10001,
      fromNickName: 'bob',
      toSessionId: 10002,
      clientMsgId: 'u1',
      serverMsgId: 7,
      createTime: 1700000000,
      msgType: CIM.Def.CIMMsgType.MSG_TYPE_TEXT,
      sessionType: CIM.Def.CIMSessionType.SESSION_TYPE_SINGLE,
      msgData: Buffer.from('hi'),
    };
    expect(hexOf(encodeBody(CommandId.MSG_DATA, msg))).toBe(bytes.toString('hex'));
    const back = decodeBody(CommandId.MSG_DATA, bytes);
    expect([toId(back.fromUserId), toId(back.toSessionId), toId(back.serverMsgId)]).toEqual([
      10001, 10002, 7,
    ]);
    expect(Buffer.from(back.msgData).toString()).toBe('hi');
    expect(back.createTime).toBe(1700000000);
  });

  it('wire - CIMMsgDataAck (the "stored" ack)', () => {
    const bytes = hex(
      '08 914e' + // from_user_id = 10001
        '10 924e' + // to_session_id = 10002
        '1a 02 7531' + // client_msg_id = "u1"
        '20 07' + // server_msg_id = 7
        '28 01' + // res_code = OK
        '30 01' + // session_type = SINGLE
        '38 80e2cfaa06', // create_time = 1700000000
    );
    const ack = {
      fromUserId: 10001,
      toSessionId: 10002,
      clientMsgId: 'u1',
      serverMsgId: 7,
      resCode: CIM.Def.CIMResCode.RES_CODE_OK,
      sessionType: CIM.Def.CIMSessionType.SESSION_TYPE_SINGLE,
      createTime: 1700000000,
    };
    expect(hexOf(encodeBody(CommandId.MSG_DATA_ACK, ack))).toBe(bytes.toString('hex'));
    expect(decodeBody(CommandId.MSG_DATA_ACK, bytes)).toMatchObject({ clientMsgId: 'u1', resCode: 1 });
  });

  it('wire - CIMMsgDataReadAck', () => {
    const bytes = hex('08 914e' + '10 924e' + '18 07' + '20 01');
    const read = { userId: 10001, sessionId: 10002, msgId: 7, sessionType: 1 };
    expect(hexOf(encodeBody(CommandId.MSG_READ_ACK, read))).toBe(bytes.toString('hex'));
    expect(toId(decodeBody(CommandId.MSG_READ_ACK, bytes).msgId)).toBe(7);
  });

  it('wire - CIMGetMsgListReq puts limit_count in field 6 (there is no field 5)', () => {
    const bytes = hex(
      '08 914e' + // user_id = 10001
        '10 01' + // session_type = SINGLE
        '18 924e' + // session_id = 10002
        '20 64' + // end_msg_id = 100
        '30 14', // limit_count = 20: tag 6 << 3 = 0x30
    );
    const req = { userId: 10001, sessionType: 1, sessionId: 10002, endMsgId: 100, limitCount: 20 };
    expect(hexOf(encodeBody(CommandId.LIST_MSG_REQ, req))).toBe(bytes.toString('hex'));
    expect(decodeBody(CommandId.LIST_MSG_REQ, bytes).limitCount).toBe(20);
  });

  it('wire - CIMGroupCreateRsp with packed member ids and attach_notification_msg in field 10', () => {
    const bytes = hex(
      '08 914e' + // user_id = 10001
        '10 c801' + // result_code = 200
        '1a 08 0805 120167 38914e' + // group_info = { group_id 5, group_name "g", group_owner_id 10001 }
        '22 04 914e924e' + // member_id_list = [10001, 10002], packed
        '52 02 0801', // attach_notification_msg: tag 10 << 3 | 2 = 0x52
    );
    const rsp = {
      userId: 10001,
      resultCode: 200,
      groupInfo: { groupId: 5, groupName: 'g', groupOwnerId: 10001 },
      memberIdList: [10001, 10002],
      attachNotificationMsg: hex('0801'),
    };
    expect(hexOf(encodeBody(CommandId.GROUP_CREATE_DEFAULT_RSP, rsp))).toBe(bytes.toString('hex'));
    const back = decodeBody(CommandId.GROUP_CREATE_DEFAULT_RSP, bytes);
    expect(toIds(back.memberIdList)).toEqual([10001, 10002]);
    expect(toId(back.groupInfo!.groupOwnerId!)).toBe(10001);
    expect(hexOf(back.attachNotificationMsg)).toBe('0801');
  });

  it('wire - an id above 2^32 survives both ways', () => {
    // 2^32 + 1: bits 0 and 32 -> 81 80 80 80 10
    const bytes = hex('08 8180808010');
    expect(hexOf(encodeBody(CommandId.MSG_READ_ACK, { userId: 2 ** 32 + 1 }))).toBe(bytes.toString('hex'));
    expect(toId(decodeBody(CommandId.MSG_READ_ACK, bytes).userId)).toBe(4294967297);
  });

  it('wire - an id above 2^53 decodes exactly as a Long and is refused by toId', () => {
    // 2^53 + 1: bits 0 and 53 -> 81 80 80 80 80 80 80 10
    const bytes = hex('08 8180808080808010');
    const read = decodeBody(CommandId.MSG_READ_ACK, bytes);
    expect(Long.isLong(read.userId)).toBe(true);
    expect(read.userId.toString()).toBe('9007199254740993');
    expect(() => toId(read.userId, 'user_id')).toThrow(
      expect.objectContaining({ code: 'IM_ERR_ID_OUT_OF_RANGE' }),
    );
    const back = encodeBody(CommandId.MSG_READ_ACK, { userId: Long.fromString('9007199254740993', true) });
    expect(hexOf(back)).toBe(bytes.toString('hex'));
  });

  it('wire - the largest uint64 decodes unsigned, and 2^53-1 is still a valid id', () => {
    const max = decodeBody(CommandId.MSG_READ_ACK, hex('08 ffffffffffffffffff01'));
    expect(max.userId.toString()).toBe('18446744073709551615');
    const safe = decodeBody(CommandId.MSG_READ_ACK, hex('08 ffffffffffffff0f'));
    expect(toId(safe.userId)).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('wire - protobufjs is wired to long.js, so uint64 never passes through a lossy number', () => {
    expect(util.Long).toBe(Long);
    expect(Long.isLong(decodeBody(CommandId.MSG_READ_ACK, hex('08 01')).userId)).toBe(true);
  });

  it('wire - repeated uint64 is accepted packed, unpacked and mixed', () => {
    const packed = hex('1a 04 914e924e');
    const unpacked = hex('18 914e' + '18 924e');
    const mixed = hex('18 914e' + '1a 02 924e');
    for (const bytes of [packed, unpacked, mixed]) {
      expect(toIds(decodeBody(CommandId.GROUP_CREATE_DEFAULT_REQ, bytes).memberIdList)).toEqual([
        10001, 10002,
      ]);
    }
    expect(hexOf(encodeBody(CommandId.GROUP_CREATE_DEFAULT_REQ, { memberIdList: [10001, 10002] }))).toBe(
      packed.toString('hex'),
    );
  });

  it('wire - proto3 defaults are omitted and read back as zero', () => {
    expect(encodeBody(CommandId.MSG_DATA_ACK, { resCode: 0, clientMsgId: '', serverMsgId: 0 })).toHaveLength(
      0,
    );
    const ack = decodeBody(CommandId.MSG_DATA_ACK, new Uint8Array(0));
    expect(ack.resCode).toBe(0);
    expect(toId(ack.serverMsgId)).toBe(0);
  });

  it('wire - unknown fields are skipped', () => {
    // field 15 varint, field 16 length-delimited, then user_id.
    const bytes = hex('78 05' + '82 01 02 abcd' + '08 914e');
    expect(toId(decodeBody(CommandId.MSG_READ_ACK, bytes).userId)).toBe(10001);
  });

  it('wire - mqim extension notices', () => {
    const kick = hex('08 01' + '12 02 6869'); // reason = 1, text = "hi"
    expect(hexOf(encodeBody(CommandId.KICK_OUT_NOTIFY, { reason: 1, text: 'hi' }))).toBe(
      kick.toString('hex'),
    );
    const err = hex(
      '08 914e' + // error_code = 10001
        '12 01 45' + // error_name = "E"
        '20 8106' + // request_cmd = 0x0301 (769 = 6 * 128 + 1)
        '28 03', // request_seq = 3
    );
    expect(
      hexOf(
        encodeBody(CommandId.ERROR_NOTIFY, {
          errorCode: 10001,
          errorName: 'E',
          requestCmd: 0x0301,
          requestSeq: 3,
        }),
      ),
    ).toBe(err.toString('hex'));
  });
});

describe('codec errors', () => {
  it('codec - a truncated body is IM_ERR_BAD_BODY', () => {
    // client_msg_id claims 5 bytes, 1 present.
    expect(() => decodeBody(CommandId.MSG_DATA, hex('22 05 61'))).toThrow(
      expect.objectContaining({ name: 'ProtocolError', code: 'IM_ERR_BAD_BODY' }),
    );
  });

  it('codec - an invalid wire type is IM_ERR_BAD_BODY', () => {
    expect(() => decodeBody(CommandId.MSG_DATA, hex('0f 00'))).toThrow(ProtocolError);
  });

  it('codec - a varint running past the end is IM_ERR_BAD_BODY', () => {
    expect(() => decodeBody(CommandId.MSG_READ_ACK, hex('08 ff ff'))).toThrow(
      expect.objectContaining({
        code: 'IM_ERR_BAD_BODY',
        message: expect.stringContaining('MSG_READ_ACK(0x0303)'),
      }),
    );
  });

  it('codec - random bytes decode or fail with ProtocolError, nothing else', () => {
    let seed = 1;
    const next = (): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    const cmds = [CommandId.MSG_DATA, CommandId.LOGIN_AUTH_TOKEN_REQ, CommandId.GROUP_CREATE_DEFAULT_RSP];
    let failures = 0;
    for (let round = 0; round < 2000; round++) {
      const bytes = Buffer.alloc(next() % 64);
      for (let i = 0; i < bytes.length; i++) bytes[i] = next() & 0xff;
      try {
        decodeBody(cmds[round % cmds.length], bytes);
      } catch (err) {
        expect(err).toBeInstanceOf(ProtocolError);
        failures++;
      }
    }
    expect(failures).toBeGreaterThan(0);
  });

  it('codec - a command without a body type is IM_ERR_UNKNOWN_COMMAND', () => {
    expect(() => decodeBody(0x0999, new Uint8Array(0))).toThrow(
      expect.objectContaining({ code: 'IM_ERR_UNKNOWN_COMMAND' }),
    );
  });
});

describe('encoder reuse', () => {
  const readAck = (userId: number): string => hexOf(encodeBody(CommandId.MSG_READ_ACK, { userId }));

  it('encoder - results of consecutive encodes are independent buffers', () => {
    const first = encodeBody(CommandId.MSG_READ_ACK, { userId: 1 });
    const second = encodeBody(CommandId.MSG_READ_ACK, { userId: 2 });
    const frame = encodeMessageFrame(CommandId.MSG_READ_ACK, 1, { userId: 3 });
    expect([hexOf(first), hexOf(second), frame.subarray(16).toString('hex')]).toEqual([
      '0801',
      '0802',
      '0803',
    ]);
  });

  it('encoder - a large message does not disturb the next small one', () => {
    const big = encodeBody(CommandId.MSG_DATA, { msgData: Buffer.alloc(200 * 1024, 1) });
    expect(big.length).toBe(1 + 3 + 200 * 1024);
    expect(readAck(10001)).toBe('08914e');
  });

  it('encoder - an encode that throws half-way leaves later encodes correct', () => {
    const poisoned = {
      fromUserId: 10001,
      get clientMsgId(): string {
        throw new Error('getter failed');
      },
    };
    expect(() => encodeBody(CommandId.MSG_DATA, poisoned)).toThrow('getter failed');
    expect(readAck(10002)).toBe('08924e');
  });
});

describe('encodeMessageFrame', () => {
  it('frame - header and body in one buffer, equal to encodeFrame over encodeBody', () => {
    const ack = { fromUserId: 10001, toSessionId: 10002, clientMsgId: 'u1', serverMsgId: 7, resCode: 1 };
    const frame = encodeMessageFrame(CommandId.MSG_DATA_ACK, 9, ack);
    // 14 body bytes + 16 = 30.
    expect(frame.toString('hex')).toBe(
      '0000001e' +
        '0001' +
        '0000' +
        '0000' +
        '0302' +
        '0009' +
        '0000' +
        '08914e' +
        '10924e' +
        '1a027531' +
        '2007' +
        '2801',
    );
    expect(frame).toEqual(encodeFrame(CommandId.MSG_DATA_ACK, 9, encodeBody(CommandId.MSG_DATA_ACK, ack)));
  });

  it('frame - an empty message is a bare header', () => {
    expect(encodeMessageFrame(CommandId.LOGIN_HEARTBEAT, 1, {}).toString('hex')).toBe(
      '00000010000100000000010500010000',
    );
  });
});
