import { CommandId, encodeGateBatch, encodeKickBatch, mqim } from '@mqim/protocol';
import { DownstreamApplier } from './downstream.applier';
import { roomsFixture } from './testing/rooms.fixture';

describe('gate downstream applier - cluster commands reach the right connections', () => {
  const batch = (commands: mqim.v1.IGateCommand[]) => mqim.v1.GateBatch.encode({ commands }).finish();

  it('frame - a reply reaches only its connection, with the request seq', async () => {
    const { ctx, connect } = roomsFixture();
    const a = connect(7);
    const b = connect(7);
    await new DownstreamApplier(ctx).apply(
      batch([{ connId: a.conn.id, cmd: CommandId.GROUP_LIST_RSP, seq: 9, body: Buffer.from('r') }]),
    );
    expect(a.sink.frames.map((f) => [f.commandId, f.seq])).toEqual([[CommandId.GROUP_LIST_RSP, 9]]);
    expect(b.sink.frames).toEqual([]);
  });

  it('fan-out - a delivery reaches every device of each user but the excluded one, with server seqs', async () => {
    const { ctx, connect } = roomsFixture();
    const sender = connect(7);
    const otherDevice = connect(7);
    const peer = connect(8);
    const stranger = connect(9);
    await new DownstreamApplier(ctx).apply(
      batch([
        { userIds: [7, 8], excludeConnId: sender.conn.id, cmd: CommandId.MSG_DATA, body: Buffer.from('m') },
      ]),
    );
    expect(sender.sink.frames).toEqual([]);
    expect(stranger.sink.frames).toEqual([]);
    for (const s of [otherDevice.sink, peer.sink])
      expect(s.frames.map((f) => [f.commandId, f.seq])).toEqual([[CommandId.MSG_DATA, 1]]);
  });

  it('kick - the notice is written, then the connection is closed', async () => {
    const { ctx, connect } = roomsFixture();
    const { conn, sink } = connect(7);
    await new DownstreamApplier(ctx).apply(encodeKickBatch([conn.id], 1, 'logged in on another device'));
    expect(sink.frames.map((f) => f.commandId)).toEqual([CommandId.KICK_OUT_NOTIFY]);
    expect([conn.closed, sink.closed]).toEqual([true, true]);
  });

  it('login - the route is registered before the answer is written (a message right after must find it)', async () => {
    const { ctx, connect } = roomsFixture();
    const { conn, sink } = connect(0);
    const events: string[] = [];
    const routes = ctx.deps.routes;
    const register = routes.register.bind(routes);
    routes.register = async (...args) => {
      await register(...args);
      events.push(`registered ${args[0].userId}`);
    };
    const write = sink.write.bind(sink);
    sink.write = (frame) => {
      events.push('answered');
      write(frame);
    };
    await new DownstreamApplier(ctx).apply(
      batch([
        {
          action: mqim.v1.GateAction.GATE_ACTION_LOGIN_OK,
          connId: conn.id,
          userId: 42,
          clientType: 2,
          cmd: CommandId.LOGIN_AUTH_RSP,
          seq: 1,
          body: Buffer.from('ok'),
        },
      ]),
    );
    expect(events).toEqual(['registered 42', 'answered']);
    expect([conn.userId, conn.clientType]).toEqual([42, 2]);
    expect(ctx.table.userConnections(42)?.has(conn)).toBe(true);
  });

  it('presence - a bound login publishes USER_ONLINE on the event stream once its route is registered', async () => {
    const { ctx, connect, published } = roomsFixture();
    const { conn } = connect(0);
    await new DownstreamApplier(ctx).apply(
      batch([
        {
          action: mqim.v1.GateAction.GATE_ACTION_LOGIN_OK,
          connId: conn.id,
          userId: 42,
          cmd: CommandId.LOGIN_AUTH_RSP,
          seq: 1,
        },
      ]),
    );
    await ctx.presence.flushAll();
    const events = published
      .filter((m) => m.topic === ctx.names.events)
      .flatMap((m) => mqim.v1.EventBatch.decode(m.body).events);
    expect(events.map((e) => [e.type, Number(e.presence?.userId), e.presence?.connId])).toEqual([
      [mqim.v1.EventType.EVENT_TYPE_USER_ONLINE, 42, conn.id],
    ]);
    expect(conn.loggedInAt).toBeGreaterThan(0);
  });

  it('bad input - an undecodable batch is dropped; one bad command does not stop the next', async () => {
    const { ctx, connect } = roomsFixture();
    const { conn, sink } = connect(7);
    const applier = new DownstreamApplier(ctx);
    await expect(applier.apply(Buffer.from([0x0a, 0xff]))).resolves.toBeUndefined();
    await applier.apply(
      encodeGateBatch([
        { action: mqim.v1.GateAction.GATE_ACTION_LOGIN_OK, connId: conn.id, userId: -1 },
        { connId: conn.id, cmd: CommandId.MSG_DATA, seq: 0, body: Buffer.from('after') },
      ]),
    );
    expect(sink.frames.map((f) => f.commandId)).toEqual([CommandId.MSG_DATA]);
  });
});
