import type { FastifyInstance } from 'fastify';
import { MemoryBus } from '@mqim/bus';
import { GatePublisher } from '@mqim/delivery';
import { MemoryCache } from '@mqim/cache';
import type { Logger } from '@mqim/config';
import { MqimMetrics } from '@mqim/metrics';
import { CIM, CommandId, MqNames, decodeUpstream } from '@mqim/protocol';
import { createSqliteStore, type Store } from '@mqim/store';
import { buildApi } from './index';
import { requestFingerprint, scopedKey } from './idempotency.hook';

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

  it('idempotency - the same key with another body is 409 IM_ERR_DUPLICATE_MISMATCH and does nothing', async () => {
    const first = await post('/api/v1/users', { nickName: 'Bo' }, 'k-bo');
    const otherBody = await post('/api/v1/users', { nickName: 'Eve' }, 'k-bo');
    expect(otherBody.statusCode).toBe(409);
    expect(otherBody.json().error.code).toBe('IM_ERR_DUPLICATE_MISMATCH');
    // Eve was never created: the next user gets the id right after Bo's.
    const next = await post('/api/v1/users', { nickName: 'Next' });
    expect(next.json().userId).toBe(first.json().userId + 1);
  });

  it('idempotency - a refusal is replayed too; a wrong API key is not kept', async () => {
    await post('/api/v1/users', { nickName: 'Dup', userName: 'dup' });
    const bad = await post('/api/v1/users', { nickName: 'Dup', userName: 'dup' }, 'k-dup');
    expect(bad.statusCode).toBe(409);
    const again = await post('/api/v1/users', { nickName: 'Dup', userName: 'dup' }, 'k-dup');
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('IM_ERR_USER_EXISTS');
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
    const busy = scopedKey('POST', '/api/v1/users', 'k-busy');
    await cache.idempotency.claim(busy, requestFingerprint('/api/v1/users', { nickName: 'Cy' }), 60_000);
    const res = await post('/api/v1/users', { nickName: 'Cy' }, 'k-busy');
    expect(res.statusCode).toBe(409);
    expect(res.json().error.code).toBe('IM_ERR_IDEMPOTENCY_IN_PROGRESS');
    // It finishes (here: its process died and the key was released): the retry runs.
    await cache.idempotency.release(busy, requestFingerprint('/api/v1/users', { nickName: 'Cy' }));
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

  it("idempotency - keys are scoped by route: one key on two routes runs each (never the other route's answer)", async () => {
    const user = await post('/api/v1/users', { nickName: 'Scope' }, 'k-shared');
    expect(user.statusCode).toBe(201);
    const devices = await post(
      `/api/v1/users/${user.json().userId}/devices`,
      { platform: 'webhook', token: 'https://example.com/push' },
      'k-shared',
    );
    expect(devices.statusCode).toBe(204);
    expect(devices.headers['idempotent-replayed']).toBeUndefined();
    // On its own route the key still replays the first answer.
    const again = await post('/api/v1/users', { nickName: 'Scope' }, 'k-shared');
    expect(again.headers['idempotent-replayed']).toBe('true');
  });

  it('idempotency - a new login token is never kept for replay: a retry issues another, not the same secret', async () => {
    const user = (await post('/api/v1/users', { nickName: 'Tok' })).json().userId as number;
    const first = await post(`/api/v1/users/${user}/tokens`, { keepExisting: true }, 'k-token');
    expect(first.statusCode).toBe(201);
    const retry = await post(`/api/v1/users/${user}/tokens`, { keepExisting: true }, 'k-token');
    expect(retry.statusCode).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBeUndefined();
    expect(retry.json().token).not.toBe(first.json().token);
  });
});

describe('api - Idempotency-Key on POST /messages is per sender', () => {
  const names = new MqNames('im');
  const metrics = new MqimMetrics({ defaultMetrics: false });
  let app: FastifyInstance;
  let bus: MemoryBus;
  let store: Store;
  let cache: MemoryCache;
  let sends: number;

  beforeEach(async () => {
    sends = 0;
    bus = new MemoryBus();
    await bus.ensureTopics(names.sharedTopics());
    await bus.ensureGroups(names.sharedGroups());
    // Logic stands in on the in-process bus: every send is stored (acked OK).
    const replier = new GatePublisher(bus, names, metrics, { windowMs: 0, tag: 'reply' });
    await bus.subscribeBatch({ topic: names.upstream, group: names.logicGroup }, async (messages) => {
      for (const m of messages)
        for (const { request } of decodeUpstream(m.body, m.tag, m.messageGroup)) {
          const msg = CIM.Message.CIMMsgData.decode(request.body);
          await replier.send(request.gateId, [
            {
              connId: request.connId,
              cmd: CommandId.MSG_DATA_ACK,
              seq: request.seq,
              body: CIM.Message.CIMMsgDataAck.encode({
                serverMsgId: ++sends,
                clientMsgId: msg.clientMsgId,
                resCode: CIM.Def.CIMResCode.RES_CODE_OK,
              }).finish(),
            },
          ]);
        }
    });
    store = await createSqliteStore({ filename: ':memory:' });
    cache = new MemoryCache();
    for (const userId of [1, 2, 3]) await store.users.create({ userId, nickName: `u${userId}` });
    const quiet = { warn: () => undefined, error: () => undefined, info: () => undefined };
    app = buildApi(
      { apiKey: KEY, topicPrefix: 'im', tokenTtlMs: 60_000, sendTimeoutMs: 5000 },
      {
        store,
        cache,
        bus,
        logger: quiet as unknown as Logger,
        metrics,
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

  const send = (from: number) =>
    app.inject({
      method: 'POST',
      url: '/api/v1/messages',
      payload: { from, sessionType: 1, to: 3, text: 'paid' },
      headers: { ...auth, 'idempotency-key': 'order-123' },
    });

  it('idempotency - two senders may use one key ("order-123"): each message is sent; a retry of one replays it', async () => {
    const a = await send(1);
    const b = await send(2);
    expect(a.statusCode).toBe(201);
    expect(b.statusCode).toBe(201);
    expect(b.headers['idempotent-replayed']).toBeUndefined();
    expect(b.json().serverMsgId).not.toBe(a.json().serverMsgId);
    const retry = await send(1);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.json()).toEqual(a.json());
    expect(sends).toBe(2);
  });
});
