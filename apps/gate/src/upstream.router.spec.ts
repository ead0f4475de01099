import { BatchPublisher, type OutgoingMessage } from '@mqim/bus';
import { recordingBus } from '@mqim/bus/testing';
import {
  CIM,
  CommandId,
  ImErrorNumber,
  UPSTREAM_BATCH_TAG,
  decodeUpstream,
  laneGroup,
  laneOf,
  mqim,
} from '@mqim/protocol';
import { waitFor } from '@mqim/testing';
import { hiddenFromLegacy } from './legacy.filter';
import { roomsFixture } from './testing/rooms.fixture';
import { UpstreamPublisher } from './upstream.publisher';
import { UpstreamRouter } from './upstream.router';
import { UserSendLimiter } from './user-send.limiter';

describe('gate upstream router - what a client sends, checked and routed', () => {
  /** A router on a bus whose publish is `answer`; `published` is what reached the broker. */
  const setup = (answer?: (m: OutgoingMessage) => Promise<string>) => {
    const f = roomsFixture();
    const { bus, published } = recordingBus(answer);
    const upstream = new UpstreamPublisher(bus, f.ctx.names, f.metrics, {
      lanes: 4,
      maxInFlight: 2,
      minIntervalMs: 0,
      maxPending: 100,
    });
    const receipts = new BatchPublisher<mqim.v1.IDeliveryReceipt>(bus, {
      encode: (r) => mqim.v1.DeliveryReceiptBatch.encode({ receipts: [...r] }).finish(),
      sizeOf: () => 64,
      windowMs: 0,
    });
    const router = new UpstreamRouter(
      f.ctx,
      upstream,
      receipts,
      new UserSendLimiter(0, 100, f.cache.rates, () => undefined),
    );
    const requests = () =>
      published
        .filter((m) => m.topic === f.ctx.names.upstream)
        .flatMap((m) =>
          decodeUpstream(m.body, m.tag, m.messageGroup).map((r) => ({
            ...r,
            group: m.messageGroup,
            tag: m.tag,
          })),
        );
    return { ...f, router, published, requests, upstream };
  };
  const send = (from: number, to: number, text = 'hi', sessionType = 1) =>
    Buffer.from(
      CIM.Message.CIMMsgData.encode({
        fromUserId: from,
        toSessionId: to,
        clientMsgId: 'm1',
        msgType: 1,
        sessionType,
        msgData: Buffer.from(text),
      }).finish(),
    );

  it('send - a chat message goes to logic in its conversation lane, keyed by the user pair', async () => {
    const { router, connect, requests } = setup();
    const { conn } = connect(9);
    router.frame(conn, CommandId.MSG_DATA, 3, send(9, 2));
    await waitFor(() => requests().length === 1);
    const [r] = requests();
    expect([r!.orderKey, r!.group, r!.tag]).toEqual([
      's:2:9',
      laneGroup(laneOf('s:2:9', 4)),
      UPSTREAM_BATCH_TAG,
    ]);
    expect([r!.request.cmd, r!.request.seq, Number(r!.request.userId), r!.request.gateId]).toEqual([
      CommandId.MSG_DATA,
      3,
      9,
      'g1',
    ]);
  });

  it('send - the gate decodes a chat body once, and forwards the bytes it read unchanged', async () => {
    const { router, connect, requests } = setup();
    const { conn } = connect(9);
    const decode = jest.spyOn(CIM.Message.CIMMsgData, 'decode');
    try {
      const body = send(9, 2);
      router.frame(conn, CommandId.MSG_DATA, 3, body);
      router.frame(conn, CommandId.MSG_DATA, 4, send(9, 2, 'x'.repeat(2000))); // refused at the gate
      await waitFor(() => requests().length === 1);
      expect(decode).toHaveBeenCalledTimes(2);
      expect(Buffer.from(requests()[0]!.request.body)).toEqual(body);
    } finally {
      decode.mockRestore();
    }
  });

  it("group change - an invite is keyed by its group, the lane that group's messages take", async () => {
    const { router, connect, requests } = setup();
    const { conn } = connect(9);
    const invite = CIM.Group.CIMGroupInviteMemberReq.encode({
      userId: 9,
      groupId: 77,
      memberIdList: [3],
    }).finish();
    router.frame(conn, CommandId.GROUP_INVITE_MEMBER_REQ, 4, Buffer.from(invite));
    router.frame(conn, CommandId.MSG_DATA, 5, send(9, 77, 'x', 2));
    await waitFor(() => requests().length === 2);
    expect(requests().map((r) => r.orderKey)).toEqual(['g:77', 'g:77']);
  });

  it('bad input - an undecodable send is answered IM_ERR_BAD_BODY at the gate and never reaches logic', async () => {
    const { router, connect, published } = setup();
    const { conn, sink } = connect(9);
    router.frame(conn, CommandId.MSG_DATA, 6, Buffer.from([0x0a, 0xff]));
    expect(sink.errors().map((e) => [e.errorCode, e.requestCmd, e.requestSeq])).toEqual([
      [ImErrorNumber.IM_ERR_BAD_BODY, CommandId.MSG_DATA, 6],
    ]);
    expect(published).toEqual([]);
    expect(conn.closed).toBe(false);
  });

  it('limits - a CoffeeChat client (no 0x0803) gets no 0x0302 for a refused send, only the reason (ADR 0012)', () => {
    const { router, connect, published } = setup();
    const { conn, sink } = connect(9);
    router.frame(conn, CommandId.MSG_DATA, 7, send(9, 2, 'x'.repeat(2000)));
    expect(sink.frames.map((f) => f.commandId)).toEqual([CommandId.ERROR_NOTIFY]);
    expect(sink.errors().map((e) => [e.errorName, e.requestSeq])).toEqual([['IM_ERR_INVALID_ARGUMENT', 7]]);
    expect(published).toEqual([]);
  });

  it('limits - msg_data over the limit gets a refused ack and the reason; nothing is published', () => {
    const { router, connect, published } = setup();
    const { conn, sink } = connect(9);
    // 0x0803 flags 3 (self-sync, refused acks), hand-written: answered 0x0804 with the same flags.
    router.frame(conn, CommandId.CLIENT_CAPABILITIES_REQ, 2, Buffer.from('0803', 'hex'));
    const caps = sink.frames.find((f) => f.commandId === CommandId.CLIENT_CAPABILITIES_RSP)!;
    expect([caps.seq, Buffer.from(caps.body).toString('hex')]).toEqual([2, '0803']);
    router.frame(conn, CommandId.MSG_DATA, 7, send(9, 2, 'x'.repeat(2000)));
    const ack = CIM.Message.CIMMsgDataAck.decode(
      sink.frames.find((f) => f.commandId === CommandId.MSG_DATA_ACK)!.body,
    );
    expect([ack.clientMsgId, ack.resCode]).toEqual(['m1', CIM.Def.CIMResCode.RES_CODE_UNKNOWN]);
    expect(sink.errors().map((e) => e.errorName)).toEqual(['IM_ERR_INVALID_ARGUMENT']);
    expect(published).toEqual([]);
  });

  it('drain - once draining, a new send is refused IM_ERR_BUSY so the client resends elsewhere', () => {
    const { router, connect, published } = setup();
    const { conn, sink } = connect(9);
    router.draining = true;
    router.frame(conn, CommandId.MSG_DATA, 8, send(9, 2));
    expect(sink.errors().map((e) => e.errorName)).toEqual(['IM_ERR_BUSY']);
    expect(published).toEqual([]);
  });

  it('broker down - a publish that fails tells the client IM_ERR_UNAVAILABLE for that request', async () => {
    const { router, connect } = setup(async () => {
      throw new Error('proxy unreachable');
    });
    const { conn, sink } = connect(9);
    router.frame(conn, CommandId.GROUP_LIST_REQ, 11, Buffer.alloc(0));
    await waitFor(() => sink.errors().length === 1);
    expect(sink.errors().map((e) => [e.errorName, e.requestCmd, e.requestSeq])).toEqual([
      ['IM_ERR_UNAVAILABLE', CommandId.GROUP_LIST_REQ, 11],
    ]);
  });

  it('login - before login only a login goes through (keyed by the connection); anything else is refused and closed', async () => {
    const { router, connect, requests } = setup();
    const anon = connect(0);
    router.frame(
      anon.conn,
      CommandId.LOGIN_AUTH_REQ,
      1,
      Buffer.from(CIM.Login.CIMAuthReq.encode({ userName: 'a' }).finish()),
    );
    await waitFor(() => requests().length === 1);
    expect(requests()[0]!.orderKey).toBe(`lg1_${anon.conn.id}`);
    expect(requests()[0]!.request.clientAddress).toBe('10.0.0.1');
    const early = connect(0);
    router.frame(early.conn, CommandId.LIST_MSG_REQ, 2, Buffer.alloc(0));
    expect(early.sink.errors().map((e) => e.errorName)).toEqual(['IM_ERR_NOT_LOGGED_IN']);
    expect(early.conn.closed).toBe(true);
  });

  it('capabilities - a 0x0803 before login is answered and kept, so the first self-copy after login is not hidden', () => {
    const { router, connect } = setup();
    const { conn, sink } = connect(0);
    router.frame(conn, CommandId.CLIENT_CAPABILITIES_REQ, 1, Buffer.from('0803', 'hex'));
    const caps = sink.frames.find((f) => f.commandId === CommandId.CLIENT_CAPABILITIES_RSP)!;
    expect([caps.seq, Buffer.from(caps.body).toString('hex')]).toEqual([1, '0803']);
    expect(sink.errors()).toEqual([]);
    expect(conn.closed).toBe(false);
    // Logged in: a copy of the user's own send reaches this connection; a legacy one's is hidden.
    conn.userId = 9;
    expect(hiddenFromLegacy(conn, CommandId.MSG_DATA, send(9, 2))).toBe(false);
    const legacy = connect(9).conn;
    expect(hiddenFromLegacy(legacy, CommandId.MSG_DATA, send(9, 2))).toBe(true);
  });

  it('local - a heartbeat is answered by the gate; a logout answers and closes; an unknown command is ignored', () => {
    const { router, connect, published } = setup();
    const { conn, sink } = connect(9);
    router.frame(conn, CommandId.LOGIN_HEARTBEAT, 1, Buffer.alloc(0));
    router.frame(conn, 0x7777, 2, Buffer.alloc(0));
    expect(conn.closed).toBe(false);
    router.frame(conn, CommandId.LOGIN_AUTH_LOGOUT_REQ, 3, Buffer.alloc(0));
    expect(sink.frames.map((f) => f.commandId)).toEqual([
      CommandId.LOGIN_HEARTBEAT,
      CommandId.LOGIN_AUTH_LOGOUT_RSP,
    ]);
    expect(conn.closed).toBe(true);
    expect(published).toEqual([]);
  });

  it('receipt - a delivery receipt is batched to the job with the reader as its user', async () => {
    const { router, connect, published, ctx } = setup();
    const { conn } = connect(9);
    const ack = CIM.Message.CIMMsgDataAck.encode({
      fromUserId: 9,
      toSessionId: 2,
      clientMsgId: 'm1',
      serverMsgId: 5,
      sessionType: 1,
    }).finish();
    router.frame(conn, CommandId.MSG_DATA_ACK, 4, Buffer.from(ack));
    await waitFor(() => published.some((m) => m.topic === ctx.names.receipt));
    const batch = mqim.v1.DeliveryReceiptBatch.decode(
      published.find((m) => m.topic === ctx.names.receipt)!.body,
    );
    expect(batch.receipts.map((r) => [Number(r.userId), Number(r.sessionId), Number(r.serverMsgId)])).toEqual(
      [[9, 2, 5]],
    );
  });
});
