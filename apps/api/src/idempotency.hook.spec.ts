import type { FastifyInstance } from 'fastify';
import { MemoryCache } from '@mqim/cache';
import type { Logger } from '@mqim/config';
import { MqimMetrics } from '@mqim/metrics';
import { createSqliteStore, type Store } from '@mqim/store';
import { buildApi } from './index';
import { requestFingerprint } from './idempotency.hook';

const KEY = 'test-api-key-idempotency';
const auth = { authorization: `Bearer ${KEY}` };

describe('api - Idempotency-Key on every POST', () => {
  let app: FastifyInstance;
  let store: Store;
  let cache: MemoryCache;
  beforeEach(async () => {
    store = await createSqliteStore({ filename: ':memory:' });
    cache = new MemoryCache();
    const logger = {
      warn: () => undefined,
      error: () => undefined,
      info: () => undefined,
    } as unknown as Logger;
    app = buildApi(
      { apiKey: KEY, topicPrefix: 'im', tokenTtlMs: 60_000, idempotency: { ttlMs: 60_000 } },
      {
        store,
        cache,
        logger,
        metrics: new MqimMetrics({ defaultMetrics: false }),
        health: { check: async () => [] },
      },
    );
  });
  afterEach(async () => {
    await app.close();
    await cache.close();
    await store.close();
  });

  const post = (url: string, body: unknown, key?: string) =>
    app.inject({
      method: 'POST',
      url,
      payload: body as object,
      headers: { ...auth, ...(key === undefined ? {} : { 'idempotency-key': key }) },
    });

  it('idempotency - a retried user creation answers the first answer and creates no second user', async () => {
    const first = await post('/api/v1/users', { nickName: 'Ann' }, 'create-ann-1');
    expect(first.statusCode).toBe(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    // Same request, keys in another order in another JSON text: the same request.
    const again = await post('/api/v1/users', { nickName: 'Ann' }, 'create-ann-1');
    expect(again.statusCode).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(first.json());
    // Without a key, each request runs: this one is a new user.
    const other = await post('/api/v1/users', { nickName: 'Ann' });
    // ... and the retry created none: this is the very next id.
    expect(other.json().userId).toBe(first.json().userId + 1);
  });

  it('idempotency - the same key with another body or path is 409 IM_ERR_DUPLICATE_MISMATCH and does nothing', async () => {
    const first = await post('/api/v1/users', { nickName: 'Bo' }, 'k-bo');
    const otherBody = await post('/api/v1/users', { nickName: 'Eve' }, 'k-bo');
    expect(otherBody.statusCode).toBe(409);
    expect(otherBody.json().error.code).toBe('IM_ERR_DUPLICATE_MISMATCH');
    const otherPath = await post(`/api/v1/users/${first.json().userId}/tokens`, {}, 'k-bo');
    expect(otherPath.statusCode).toBe(409);
    // Eve was never created: the next user gets the id right after Bo's.
    const next = await post('/api/v1/users', { nickName: 'Next' });
    expect(next.json().userId).toBe(first.json().userId + 1);
  });

  it('idempotency - a refusal is replayed too; a wrong API key is not kept', async () => {
    const bad = await post('/api/v1/users/999/tokens', {}, 'k-tok');
    expect(bad.statusCode).toBe(404);
    const again = await post('/api/v1/users/999/tokens', {}, 'k-tok');
    expect(again.statusCode).toBe(404);
    expect(again.headers['idempotent-replayed']).toBe('true');
    const unauthorized = await app.inject({
      method: 'POST',
      url: '/api/v1/users',
      payload: { nickName: 'X' },
      headers: { authorization: 'Bearer wrong', 'idempotency-key': 'k-x' },
    });
    expect(unauthorized.statusCode).toBe(401);
    const real = await post('/api/v1/users', { nickName: 'X' }, 'k-x');
    expect(real.statusCode).toBe(201);
    expect(real.headers['idempotent-replayed']).toBeUndefined();
  });

  it('idempotency - a key whose first request still runs is 409 IM_ERR_IDEMPOTENCY_IN_PROGRESS', async () => {
    // Another api process runs the same request (claimed, not answered yet).
    await cache.idempotency.claim('k-busy', requestFingerprint('/api/v1/users', { nickName: 'Cy' }), 60_000);
    const res = await post('/api/v1/users', { nickName: 'Cy' }, 'k-busy');
    expect(res.statusCode).toBe(409);
    expect(res.json().error.code).toBe('IM_ERR_IDEMPOTENCY_IN_PROGRESS');
    // It finishes (here: its process died and the key was released): the retry runs.
    await cache.idempotency.release('k-busy', requestFingerprint('/api/v1/users', { nickName: 'Cy' }));
    expect((await post('/api/v1/users', { nickName: 'Cy' }, 'k-busy')).statusCode).toBe(201);
  });

  it('idempotency - concurrent retries: one runs, the others are in progress or replayed; one user', async () => {
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => post('/api/v1/users', { nickName: 'Par' }, 'k-par')),
    );
    const created = answers.filter((a) => a.statusCode === 201);
    expect(created.length).toBeGreaterThanOrEqual(1);
    expect(new Set(created.map((a) => a.json().userId)).size).toBe(1);
    for (const a of answers.filter((x) => x.statusCode !== 201)) {
      expect(a.statusCode).toBe(409);
      expect(a.json().error.code).toBe('IM_ERR_IDEMPOTENCY_IN_PROGRESS');
    }
  });

  it('idempotency - a malformed key is 400, and the header and codes are in /openapi.json', async () => {
    const res = await post('/api/v1/users', { nickName: 'Z' }, 'bad key with spaces');
    expect(res.statusCode).toBe(400);
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
    const op = doc.paths['/api/v1/users'].post;
    expect(op.parameters.map((p: { name: string }) => p.name)).toContain('idempotency-key');
    const codes =
      op.responses['409'].content['application/json'].schema.properties.error.properties.code.enum;
    expect(codes).toEqual(
      expect.arrayContaining(['IM_ERR_DUPLICATE_MISMATCH', 'IM_ERR_IDEMPOTENCY_IN_PROGRESS']),
    );
  });
});
