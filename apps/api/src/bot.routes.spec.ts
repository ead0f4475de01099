import type { FastifyInstance } from 'fastify';
import { MemoryBus } from '@mqim/bus';
import { MemoryCache } from '@mqim/cache';
import type { Logger } from '@mqim/config';
import { MqimMetrics } from '@mqim/metrics';
import { createSqliteStore, type Store } from '@mqim/store';
import { buildApi } from './index';

const KEY = 'test-api-key-0123456789';
const quiet = { warn: () => undefined, error: () => undefined, info: () => undefined } as unknown as Logger;

/** A bot's own signing secret over HTTP: made when the bot is created, shown once, rotatable. */
describe('api - bot routes: a signing secret per bot', () => {
  let app: FastifyInstance;
  let store: Store;
  let cache: MemoryCache;
  let bus: MemoryBus;
  const call = async (method: 'GET' | 'PUT' | 'POST' | 'DELETE', url: string, payload?: unknown) => {
    const res = await app.inject({
      method,
      url: `/api/v1${url}`,
      headers: { authorization: `Bearer ${KEY}` },
      ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
    });
    return {
      status: res.statusCode,
      body: res.body ? (JSON.parse(res.body) as Record<string, unknown>) : {},
    };
  };

  beforeEach(async () => {
    bus = new MemoryBus();
    store = await createSqliteStore({ filename: ':memory:' });
    cache = new MemoryCache();
    app = buildApi(
      { apiKey: KEY, topicPrefix: 'im', tokenTtlMs: 60_000, limits: {}, sendTimeoutMs: 5000 },
      {
        store,
        cache,
        bus,
        logger: quiet,
        metrics: new MqimMetrics({ defaultMetrics: false }),
        health: { check: async () => [] },
      },
    );
    await app.ready();
  });
  afterEach(async () => {
    await app.close();
    await bus.close();
    await cache.close();
    await store.close();
  });

  it('bot secret - returned once when the bot is created, never again; the job signs with the stored one', async () => {
    const { userId } = await store.users.create({ userName: 'helper' });
    const created = await call('PUT', `/users/${userId}/bot`, { webhookUrl: 'http://127.0.0.1:9/a' });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ userId, webhookUrl: 'http://127.0.0.1:9/a', hasOwnSecret: true });
    expect(created.body.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await store.bots.webhooksAmong([userId]))[0]!.secret).toBe(created.body.secret);
    // A new URL keeps the secret and does not show it; neither does a read.
    const moved = await call('PUT', `/users/${userId}/bot`, { webhookUrl: 'http://127.0.0.1:9/b' });
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ webhookUrl: 'http://127.0.0.1:9/b', hasOwnSecret: true });
    expect(moved.body).not.toHaveProperty('secret');
    expect((await call('GET', `/users/${userId}/bot`)).body).not.toHaveProperty('secret');
    expect((await store.bots.webhooksAmong([userId]))[0]!.secret).toBe(created.body.secret);
  });

  it('bot secret - a rotation returns a new secret that the store signs with; a bot flagged before 0007 gets its first', async () => {
    const { userId } = await store.users.create({ userName: 'old-bot' });
    // Flagged before migration 0007: no secret of its own (MQIM_HOOK_SECRET signs its calls).
    await store.bots.set(userId, 'http://127.0.0.1:9/old');
    expect((await call('GET', `/users/${userId}/bot`)).body).toMatchObject({ hasOwnSecret: false });
    const first = await call('POST', `/users/${userId}/bot/secret`);
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ userId, secret: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
    const second = await call('POST', `/users/${userId}/bot/secret`);
    expect(second.body.secret).not.toBe(first.body.secret);
    expect((await store.bots.webhooksAmong([userId]))[0]!.secret).toBe(second.body.secret);
    expect((await call('GET', `/users/${userId}/bot`)).body).toMatchObject({ hasOwnSecret: true });
    const notBot = await call('POST', `/users/${userId + 1}/bot/secret`);
    expect(notBot.status).toBe(404);
    expect(notBot.body).toMatchObject({ error: { code: 'IM_ERR_NOT_FOUND' } });
  });
});
