import pino from 'pino';
import { MemoryCache, type InstanceInfo, type Route } from '@mqim/cache';
import { MqimMetrics } from '@mqim/metrics';
import { DeadGateSweeper } from './dead-gate.sweeper';
import { PresenceHeartbeat } from './presence.heartbeat';

const logger = pino({ level: 'silent' });
const TTL = 60_000;
const route = (userId: number, gateId: string): Route => ({
  userId,
  gateId,
  connId: `c${userId}`,
  clientType: 1,
  loginAt: 1,
});
const gate = (id: string): InstanceInfo => ({
  role: 'gate',
  id,
  pid: 1,
  host: 'h',
  startedAt: 1,
  version: 'test',
});
// Time is the subject (records lapsing, beats in time): jest's clock, moved on purpose.
const sleep = async (ms: number) => void (await jest.advanceTimersByTimeAsync(ms));

describe('dead-gate sweeper - routes of gates without a heartbeat are evicted', () => {
  let cache: MemoryCache;
  beforeEach(() => {
    jest.useFakeTimers();
    cache = new MemoryCache();
  });
  afterEach(async () => {
    await cache.close();
    jest.useRealTimers();
  });

  it('sweep - evicts the silent gate only; its users read offline, the live gate keeps its users', async () => {
    const metrics = new MqimMetrics({ defaultMetrics: false });
    await cache.presence.beat(gate('gate-1'), TTL);
    await cache.presence.beat(gate('gate-2'), 150);
    await cache.routes.refresh([route(1, 'gate-1'), route(2, 'gate-2'), route(3, 'gate-2')], TTL);
    const sweeper = new DeadGateSweeper(cache, logger, 0, metrics);

    expect(await sweeper.sweep()).toEqual([]);
    await sleep(300); // gate-2's beats stopped: its record expires
    expect(await sweeper.sweep()).toEqual(['gate-2']);
    const found = await cache.routes.lookup([1, 2, 3]);
    expect([...found.keys()]).toEqual([1]);
    expect(await cache.routes.online(0, 10)).toEqual({ total: 1, userIds: [1] });
    expect((await metrics.deadGateEvictions.get()).values[0]!.value).toBe(1);
    // Nothing left to evict: a second sweep is a no-op.
    expect(await sweeper.sweep()).toEqual([]);
  });

  it('sweep - a gate whose beat comes back between the snapshot and the eviction keeps its routes', async () => {
    await cache.presence.beat(gate('gate-3'), 50);
    await cache.routes.refresh([route(7, 'gate-3')], TTL);
    await sleep(120); // lapsed: the snapshot will call it dead
    const list = cache.presence.list.bind(cache.presence);
    let calls = 0;
    // The gate beats again right after the sweeper's first look (and re-registers its routes).
    cache.presence.list = async () => {
      const seen = await list();
      if (++calls === 1) await cache.presence.beat(gate('gate-3'), TTL);
      return seen;
    };
    const sweeper = new DeadGateSweeper(cache, logger, 0);
    expect(await sweeper.sweep()).toEqual([]);
    expect([...(await cache.routes.lookup([7])).keys()]).toEqual([7]);
  });

  it('heartbeat - a gate whose record lapsed is told so (re-registers its routes); leave() removes it', async () => {
    const fresh: boolean[] = [];
    const hb = new PresenceHeartbeat(
      cache.presence,
      () => gate('gate-9'),
      { intervalMs: 40, ttlMs: 200 },
      logger,
      (first) => fresh.push(first),
    );
    await hb.start();
    expect(fresh).toEqual([true]);
    await sleep(150);
    expect((await cache.presence.list()).map((i) => i.id)).toEqual(['gate-9']);
    expect(fresh).toEqual([true]); // beats in time are not fresh
    cache.presence.clear(); // the record is lost (cache restart, or beats failed for a TTL)
    await sleep(120);
    expect(fresh).toEqual([true, false]);
    await hb.stop();
    expect(await cache.presence.list()).toEqual([]);
  });
});
