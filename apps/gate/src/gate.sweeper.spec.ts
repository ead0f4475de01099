import { ImErrorNumber } from '@mqim/protocol';
import { GateSweeper } from './gate.sweeper';
import { roomsFixture } from './testing/rooms.fixture';
import { UserSendLimiter } from './user-send.limiter';

describe('gate sweeper - timeouts close with a reason, routes are refreshed', () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => jest.useRealTimers());

  const setup = () => {
    const f = roomsFixture({ loginTimeoutMs: 15_000, heartbeatTimeoutMs: 60_000, routeTtlMs: 90_000 });
    const sweeper = new GateSweeper(f.ctx, new UserSendLimiter(0, 100, f.cache.rates, () => undefined));
    return { ...f, sweeper };
  };

  it('login timeout - a connection that did not log in is told IM_ERR_LOGIN_TIMEOUT, then closed', () => {
    const { connect, sweeper } = setup();
    const { conn, sink } = connect(0);
    sweeper.start();
    jest.advanceTimersByTime(15_000);
    expect(conn.closed).toBe(false);
    jest.advanceTimersByTime(1_000);
    expect(sink.errors().map((e) => e.errorCode)).toEqual([ImErrorNumber.IM_ERR_LOGIN_TIMEOUT]);
    expect([conn.closed, sink.closed]).toEqual([true, true]);
    sweeper.stop();
  });

  it('heartbeat timeout - a silent logged-in connection is told IM_ERR_HEARTBEAT_TIMEOUT; a beating one stays', () => {
    const { connect, sweeper } = setup();
    const silent = connect(7);
    const beating = connect(8);
    sweeper.start();
    for (let s = 0; s < 61; s++) {
      beating.conn.lastSeenAt = Date.now();
      jest.advanceTimersByTime(1_000);
    }
    expect(silent.sink.errors().map((e) => e.errorName)).toEqual(['IM_ERR_HEARTBEAT_TIMEOUT']);
    expect(silent.conn.closed).toBe(true);
    expect(beating.conn.closed).toBe(false);
    expect(beating.sink.frames).toEqual([]);
    sweeper.stop();
  });

  it('routes - every third of the route TTL the routes of logged-in connections are re-created', async () => {
    const { connect, sweeper, cache } = setup();
    connect(7);
    connect(0); // not logged in: no route
    sweeper.sweep(Date.now());
    await Promise.resolve();
    expect([...(await cache.routes.lookup([7])).get(7)!].map((r) => r.gateId)).toEqual(['g1']);
    // The cache lost it (a restart); the next refresh is due a third of the TTL later.
    await cache.routes.unregister(7, 'g1', 'c1');
    sweeper.sweep(Date.now() + 29_000);
    await Promise.resolve();
    expect((await cache.routes.lookup([7])).get(7) ?? []).toEqual([]);
    sweeper.sweep(Date.now() + 30_000);
    await Promise.resolve();
    expect(((await cache.routes.lookup([7])).get(7) ?? []).map((r) => r.connId)).toEqual(['c1']);
  });
});
