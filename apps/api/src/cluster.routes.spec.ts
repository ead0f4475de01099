import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { MemoryBus } from '@mqim/bus';
import { MemoryCache, type InstanceInfo, type Route } from '@mqim/cache';
import { MqimMetrics } from '@mqim/metrics';
import { createSqliteStore, type Store } from '@mqim/store';
import { buildApi } from './index';

const KEY = 'test-api-key-cluster-0123';
const auth = { authorization: `Bearer ${KEY}` };
const logger = pino({ level: 'silent' });
const TTL = 60_000;

const info = (role: string, id: string, extra: Partial<InstanceInfo> = {}): InstanceInfo => ({
  role,
  id,
  pid: 100,
  host: 'host-a',
  startedAt: 1_700_000_000_000,
  version: '0.1.0',
  ...extra,
});
const route = (userId: number, gateId: string, connId = `c${userId}`): Route => ({
  userId,
  gateId,
  connId,
  clientType: 1,
  loginAt: 1,
});

describe('api - cluster status and online users', () => {
  let app: FastifyInstance;
  let cache: MemoryCache;
  let store: Store;
  let bus: MemoryBus;

  beforeEach(async () => {
    store = await createSqliteStore({ filename: ':memory:' });
    cache = new MemoryCache();
    bus = new MemoryBus({ logger });
    app = buildApi(
      { apiKey: KEY, topicPrefix: 'im', tokenTtlMs: 60_000 },
      {
        store,
        cache,
        bus,
        logger,
        metrics: new MqimMetrics({ defaultMetrics: false }),
        health: { check: async () => [] },
      },
    );
  });
  afterEach(async () => {
    await app.close();
    await bus.close();
    await cache.close();
    await store.close();
  });

  const get = async (url: string, headers: Record<string, string> = auth) => {
    const res = await app.inject({ method: 'GET', url, headers });
    return { status: res.statusCode, body: JSON.parse(res.body) as Record<string, unknown> };
  };

  it('status - needs the API key, like every admin route', async () => {
    expect((await get('/api/v1/cluster/status', {})).status).toBe(401);
    expect((await get('/api/v1/online', { authorization: 'Bearer nope' })).status).toBe(401);
  });

  it('status - lists live gates with their counts, other roles, dead gates, dependencies and lag source', async () => {
    await cache.presence.beat(
      info('gate', 'gate-1', { address: 'tcp://h:1 ws://h:2/ws', connections: 3, users: 2 }),
      TTL,
    );
    await cache.presence.beat(info('logic', 'l-1'), TTL);
    await cache.presence.beat(info('job', 'j-1'), TTL);
    await cache.presence.beat(info('api', 'a-1', { address: 'http://h:3' }), TTL);
    await cache.routes.refresh([route(5, 'gate-1'), route(6, 'gate-1'), route(7, 'gate-9')], TTL);

    const { status, body } = await get('/api/v1/cluster/status');
    expect(status).toBe(200);
    expect(body).toMatchObject({
      ok: true,
      onlineUsers: 3,
      deadGates: ['gate-9'],
      gates: [
        {
          id: 'gate-1',
          address: 'tcp://h:1 ws://h:2/ws',
          connections: 3,
          users: 2,
          host: 'host-a',
          pid: 100,
          version: '0.1.0',
          startedAt: 1_700_000_000_000,
        },
      ],
      consumers: { source: 'none', groups: [] },
    });
    expect((body.instances as { role: string; id: string }[]).map((i) => `${i.role}/${i.id}`)).toEqual([
      'api/a-1',
      'job/j-1',
      'logic/l-1',
    ]);
    expect(body.dependencies).toEqual([
      { name: 'redis', ok: true, kind: 'memory', ms: 0 },
      { name: 'database', ok: true, kind: 'sqlite', ms: expect.any(Number) },
      { name: 'broker', ok: true, kind: 'memory', ms: 0 },
    ]);
  });

  it('status - not ok without a live gate, logic or job, and when a dependency fails', async () => {
    await cache.presence.beat(info('gate', 'gate-1'), TTL);
    await cache.presence.beat(info('logic', 'l-1'), TTL);
    expect((await get('/api/v1/cluster/status')).body.ok).toBe(false); // no job
    await cache.presence.beat(info('job', 'j-1'), TTL);
    expect((await get('/api/v1/cluster/status')).body.ok).toBe(true);
    await store.close();
    const { status, body } = await get('/api/v1/cluster/status');
    expect(status).toBe(200);
    expect(body.ok).toBe(false);
    expect((body.dependencies as { name: string; ok: boolean; error?: string }[])[1]).toMatchObject({
      name: 'database',
      ok: false,
      error: expect.any(String),
    });
  });

  it('online - total and ascending ids, paged with after / next', async () => {
    const ids = [42, 3, 17, 8, 100];
    await cache.routes.refresh(
      [...ids.map((id) => route(id, 'gate-1')), route(17, 'gate-2', 'second-device')],
      TTL,
    );
    expect((await get('/api/v1/online?limit=2')).body).toEqual({ total: 5, userIds: [3, 8], next: 8 });
    expect((await get('/api/v1/online?limit=2&after=8')).body).toEqual({
      total: 5,
      userIds: [17, 42],
      next: 42,
    });
    expect((await get('/api/v1/online?limit=2&after=42')).body).toEqual({
      total: 5,
      userIds: [100],
      next: null,
    });
    expect((await get('/api/v1/online')).body).toEqual({
      total: 5,
      userIds: [3, 8, 17, 42, 100],
      next: null,
    });
    await cache.routes.unregister(3, 'gate-1', 'c3');
    expect((await get('/api/v1/online')).body).toMatchObject({ total: 4 });
  });

  it('online - a query that is not a page is a 400 naming the field', async () => {
    for (const q of ['limit=0', 'limit=10001', 'limit=abc', 'after=-1', 'after=1.5', 'page=2']) {
      const res = await get(`/api/v1/online?${q}`);
      expect({ q, status: res.status }).toEqual({ q, status: 400 });
      expect(res.body).toMatchObject({ error: { code: 'IM_ERR_INVALID_ARGUMENT' } });
    }
    expect((await get('/api/v1/online?limit=10000')).status).toBe(200);
  });

  it('status - consumerGroups must be group names; a valid list is answered', async () => {
    for (const q of [
      'consumerGroups=',
      'consumerGroups=a%20b',
      'consumerGroups=a,,b',
      'consumerGroups=a;b',
    ]) {
      const res = await get(`/api/v1/cluster/status?${q}`);
      expect({ q, status: res.status }).toEqual({ q, status: 400 });
    }
    // On the in-process bus there are no offsets to read: answered, with the reason.
    const ok = await get('/api/v1/cluster/status?consumerGroups=dw-events,dw-tap');
    expect(ok.status).toBe(200);
    expect(ok.body.consumers).toMatchObject({ source: 'none' });
  });
});
