import { BatchPublisher } from '@mqim/bus';
import { CIM, CommandId, decodeUpstream, mqim } from '@mqim/protocol';
import { waitFor } from '@mqim/testing';
import { TYPING_BURST } from './connection';
import { DownstreamApplier } from './downstream.applier';
import { PresenceEvents } from './presence.events';
import { roomsFixture } from './testing/rooms.fixture';
import { UpstreamPublisher } from './upstream.publisher';
import { UpstreamRouter } from './upstream.router';
import { UserSendLimiter } from './user-send.limiter';

/** Issue 12 at the gate: typing limits, presence subscriptions, and the gate-only PRESENCE_CHANGED. */
describe('gate - typing, presence subscriptions', () => {
  const setup = () => {
    const f = roomsFixture();
    const upstream = new UpstreamPublisher(f.bus, f.ctx.names, f.metrics, {
      lanes: 4,
      maxInFlight: 2,
      minIntervalMs: 0,
      maxPending: 100,
    });
    const receipts = new BatchPublisher<mqim.v1.IDeliveryReceipt>(f.bus, {
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
      f.published
        .filter((m) => m.topic === f.ctx.names.upstream)
        .flatMap((m) => decodeUpstream(m.body, m.tag, m.messageGroup).map((r) => r.request));
    return { ...f, router, requests, upstream };
  };
  const typing = (peer: number) =>
    Buffer.from(CIM.Social.MqimTypingReq.encode({ peerUserId: peer, state: 1 }).finish());
  const errorsOf = (frames: { commandId: number; body: Uint8Array }[]) =>
    frames
      .filter((f) => f.commandId === CommandId.ERROR_NOTIFY)
      .map((f) => CIM.Ext.MqimErrorNotify.decode(f.body).errorName);

  it('typing - a burst passes, the rest is refused one by one with IM_ERR_TYPING_RATE_LIMITED; the connection stays', async () => {
    const { router, connect, requests } = setup();
    const { conn, sink } = connect(7);
    for (let i = 0; i < TYPING_BURST + 3; i++) router.frame(conn, CommandId.TYPING, i + 1, typing(8));
    await waitFor(() => requests().length === TYPING_BURST);
    expect(errorsOf(sink.frames)).toEqual([
      'IM_ERR_TYPING_RATE_LIMITED',
      'IM_ERR_TYPING_RATE_LIMITED',
      'IM_ERR_TYPING_RATE_LIMITED',
    ]);
    expect(conn.closed).toBe(false);
    expect(requests().every((r) => r.cmd === CommandId.TYPING && Number(r.userId) === 7)).toBe(true);
  });

  it('presence changed - a client sending the gate-only 0x083F is ignored; the gate sends it itself', async () => {
    const { router, connect, requests, ctx, bus, metrics, upstream } = setup();
    const { conn } = connect(7);
    router.frame(
      conn,
      CommandId.PRESENCE_CHANGED,
      1,
      Buffer.from(CIM.Social.MqimPresenceChanged.encode({ online: false }).finish()),
    );
    router.frame(
      conn,
      CommandId.PRESENCE_QUERY_REQ,
      2,
      Buffer.from(CIM.Social.MqimPresenceQueryReq.encode({ userIds: [8] }).finish()),
    );
    await waitFor(() => requests().length === 1);
    expect(requests().map((r) => r.cmd)).toEqual([CommandId.PRESENCE_QUERY_REQ]);

    const presence = new PresenceEvents(bus, ctx.names, metrics, ctx.options.gateId, ctx.log, 0, upstream);
    presence.offline(conn);
    await waitFor(() => requests().length === 2);
    const changed = requests()[1]!;
    expect([changed.cmd, Number(changed.userId), changed.connId]).toEqual([
      CommandId.PRESENCE_CHANGED,
      7,
      conn.id,
    ]);
    expect(CIM.Social.MqimPresenceChanged.decode(changed.body).online).toBe(false);
  });

  it('presence notices - written only to connections that subscribed (0x0824), other frames to all', async () => {
    const { router, connect, ctx } = setup();
    const watching = connect(7);
    const other = connect(7);
    router.frame(
      watching.conn,
      CommandId.PRESENCE_SUBSCRIBE_REQ,
      1,
      Buffer.from(CIM.Social.MqimPresenceSubscribeReq.encode({ subscribe: true }).finish()),
    );
    const notice = CIM.Social.MqimPresenceNotify.encode({
      presence: { userId: 8, online: true, devices: 1 },
    }).finish();
    await new DownstreamApplier(ctx).apply(
      mqim.v1.GateBatch.encode({
        commands: [
          { userIds: [7], cmd: CommandId.PRESENCE_NOTIFY, body: notice },
          { userIds: [7], cmd: CommandId.TYPING_NOTIFY, body: new Uint8Array(0) },
        ],
      }).finish(),
    );
    expect(watching.sink.frames.map((f) => f.commandId)).toEqual([
      CommandId.PRESENCE_NOTIFY,
      CommandId.TYPING_NOTIFY,
    ]);
    expect(other.sink.frames.map((f) => f.commandId)).toEqual([CommandId.TYPING_NOTIFY]);
  });

  it('presence subscribe - a body that does not decode is IM_ERR_BAD_BODY and marks nothing', () => {
    const { router, connect } = setup();
    const { conn, sink } = connect(7);
    router.frame(conn, CommandId.PRESENCE_SUBSCRIBE_REQ, 1, Buffer.from([0xff, 0xff]));
    expect(errorsOf(sink.frames)).toEqual(['IM_ERR_BAD_BODY']);
    expect(conn.presenceSubscribed).toBe(false);
  });
});
