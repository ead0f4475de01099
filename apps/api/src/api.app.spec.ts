import { connect, type AddressInfo, type Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { MessageBus, OutgoingMessage } from '@mqim/bus';
import { MemoryCache } from '@mqim/cache';
import type { Logger } from '@mqim/config';
import { MqimMetrics } from '@mqim/metrics';
import { CIM, KickOutReason, mqim } from '@mqim/protocol';
import { createSqliteStore, tokenIdOf, type Store } from '@mqim/store';
import { waitFor } from '@mqim/testing';
import { buildApi, type ApiOptions } from './index';

const KEY = 'test-api-key-0123456789';
const MD5 = 'e10adc3949ba59abbe56e057f20f883e';
const auth = { authorization: `Bearer ${KEY}` };

interface Harness {
  app: FastifyInstance;
  store: Store;
  warnings: Array<{ obj: Record<string, unknown>; msg: string }>;
  close(): Promise<void>;
}

async function setup(
  limits: ApiOptions['limits'] = {},
  extra: {
    bus?: MessageBus;
    cache?: MemoryCache;
    tokenResweepMs?: number;
    nicknameQueryRate?: ApiOptions['nicknameQueryRate'];
  } = {},
): Promise<Harness> {
  const store = await createSqliteStore({ filename: ':memory:' });
  const cache = extra.cache ?? new MemoryCache();
  const warnings: Harness['warnings'] = [];
  const logger = {
    warn: (obj: Record<string, unknown>, msg: string) => warnings.push({ obj, msg }),
    error: () => undefined,
    info: () => undefined,
    debug: () => undefined,
  } as unknown as Logger;
  const app = buildApi(
    {
      apiKey: KEY,
      topicPrefix: 'im',
      tokenTtlMs: 60_000,
      limits,
      tokenResweepMs: extra.tokenResweepMs,
      nicknameQueryRate: extra.nicknameQueryRate,
    },
    {
      store,
      cache,
      bus: extra.bus,
      logger,
      metrics: new MqimMetrics({ defaultMetrics: false }),
      health: { check: async () => [] },
    },
  );
  return {
    app,
    store,
    warnings,
    async close() {
      await app.close();
      await cache.close();
      await store.close();
    },
  };
}

function register(app: FastifyInstance, payload: string, contentType = 'text/plain') {
  return app.inject({
    method: 'POST',
    url: '/user/register',
    payload,
    headers: { 'content-type': contentType },
  });
}

describe('api - CoffeeChat Flutter client routes (issue 12 #2)', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await setup();
  });
  afterEach(() => h.close());

  it.each([['tk001'], ['tk0001'], ['tk00001'], ['0123456789abcdef']])(
    'register - a token of %j (5-16 characters, as the Flutter client sends) is accepted and logs in',
    async (token) => {
      const res = await register(
        h.app,
        JSON.stringify({ user_id: 501, user_nick_name: 'flu', user_token: token }),
      );
      expect(res.body).toBe('{"error_code":0,"error_msg":"success"}');
      expect(await h.store.tokens.verify(501, token)).toBe(true);
    },
  );

  it('register - a token of 4 characters is still refused 9001', async () => {
    const res = await register(
      h.app,
      JSON.stringify({ user_id: 502, user_nick_name: 'n', user_token: 'tk01' }),
    );
    expect(res.statusCode).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({ error_code: 9001 });
  });

  it('nickname - query answers the nick_name in the legacy shape; unknown and malformed ids are told apart', async () => {
    await register(h.app, JSON.stringify({ user_id: 503, user_nick_name: 'Ann Lee', user_token: 'tk503' }));
    const ok = await h.app.inject({ method: 'GET', url: '/user/nickname/query?user_id=503' });
    expect(ok.statusCode).toBe(200);
    expect(ok.headers['content-type']).toMatch(/^text\/plain/);
    expect(ok.body).toBe('{"error_code":0,"error_msg":"success","nick_name":"Ann Lee"}');
    const unknown = await h.app.inject({ method: 'GET', url: '/user/nickname/query?user_id=504' });
    expect(JSON.parse(unknown.body)).toEqual({
      error_code: 9002,
      error_msg: 'user not exist',
      nick_name: '',
    });
    for (const q of ['', '?user_id=', '?user_id=abc', '?user_id=-1', '?user_id=99999999999999999'])
      expect(
        JSON.parse((await h.app.inject({ method: 'GET', url: `/user/nickname/query${q}` })).body),
      ).toMatchObject({ error_code: 9001 });
  });

  it('nickname - query is rate limited per client address: 429 error_code 10104, other addresses still answered', async () => {
    const limited = await setup({}, { nicknameQueryRate: { perSecond: 0.001, burst: 3 } });
    try {
      await register(
        limited.app,
        JSON.stringify({ user_id: 505, user_nick_name: 'Bo', user_token: 'tk505' }),
      );
      const query = (id: number, remoteAddress = '203.0.113.7') =>
        limited.app.inject({ method: 'GET', url: `/user/nickname/query?user_id=${id}`, remoteAddress });
      const codes = [];
      for (const id of [505, 506, 507, 505]) {
        const res = await query(id);
        codes.push([res.statusCode, (JSON.parse(res.body) as { error_code: number }).error_code]);
      }
      expect(codes).toEqual([
        [200, 0],
        [200, 9002],
        [200, 9002],
        [429, 10104],
      ]);
      const limitedRes = await query(505);
      expect(limitedRes.headers['content-type']).toMatch(/^text\/plain/);
      expect(JSON.parse(limitedRes.body)).toEqual({
        error_code: 10104,
        error_msg: 'too many requests',
        nick_name: '',
      });
      expect(JSON.parse((await query(505, '198.51.100.9')).body)).toMatchObject({ nick_name: 'Bo' });
    } finally {
      await limited.close();
    }
  });

  it('nickname - generate (version 1) answers a fresh name; other versions are refused', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/user/nickname/generate?version=1' });
    const body = JSON.parse(res.body) as { error_code: number; error_msg: string; nick_name: string };
    expect([res.statusCode, body.error_code, body.error_msg]).toEqual([200, 200, 'success']);
    expect(body.nick_name).toMatch(/^[A-Za-z]+[0-9]{1,2}$/);
    for (const q of ['', '?version=2'])
      expect(
        JSON.parse((await h.app.inject({ method: 'GET', url: `/user/nickname/generate${q}` })).body),
      ).toMatchObject({ error_code: 9001, nick_name: '' });
  });
});

describe('api - /user/register (CoffeeChat)', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await setup();
  });
  afterEach(() => h.close());

  it('register - a legacy user_id of 2^53-1 is refused and registration keeps working for everyone', async () => {
    const poison = await register(
      h.app,
      JSON.stringify({ user_id: 9007199254740991, user_nick_name: 'evil', user_token: 'token-123456' }),
    );
    expect(poison.statusCode).toBe(400);
    expect(JSON.parse(poison.body)).toMatchObject({ error_code: 9001 });
    const tooBig = await register(
      h.app,
      JSON.stringify({ user_id: '2147483648', user_nick_name: 'evil', user_token: 'token-123456' }),
    );
    expect(tooBig.statusCode).toBe(400);

    const legacy = await register(
      h.app,
      JSON.stringify({ user_id: 2147483647, user_nick_name: 'top', user_token: 'token-123456' }),
    );
    expect(JSON.parse(legacy.body)).toEqual({ error_code: 0, error_msg: 'success' });
    const named = await register(h.app, JSON.stringify({ userName: 'after', userPwd: MD5 }));
    expect(JSON.parse(named.body)).toEqual({ error_code: 200, error_msg: 'success' });
    const v1 = await h.app.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers: auth,
      payload: { userName: 'v1' },
    });
    expect(v1.statusCode).toBe(201);
    expect(Number.isSafeInteger(v1.json().userId)).toBe(true);
  });

  it.each([[' 77 '], [[5]], ['0x10'], ['-1'], [1.5], [0], ['1e3'], [true], [{}]])(
    'register - the legacy user_id %j is a 400 in the legacy format, and creates nobody',
    async (userId) => {
      const res = await register(
        h.app,
        JSON.stringify({ user_id: userId, user_nick_name: 'n', user_token: 'token-123456' }),
      );
      expect(res.statusCode).toBe(400);
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
      expect(JSON.parse(res.body)).toMatchObject({ error_code: 9001 });
      for (const id of [77, 5, 16, 1000, 1]) expect(await h.store.users.findById(id)).toBeNull();
    },
  );

  it('register - a legacy user_id given as plain decimal text is accepted', async () => {
    const res = await register(
      h.app,
      JSON.stringify({ user_id: '77', user_nick_name: 'n', user_token: 'token-123456' }),
    );
    expect(JSON.parse(res.body)).toEqual({ error_code: 0, error_msg: 'success' });
    expect(await h.store.tokens.verify(77, 'token-123456')).toBe(true);
  });

  it.each([
    ['5', 'text/plain'],
    ['"alice"', 'text/plain'],
    ['null', 'application/x-www-form-urlencoded'],
    ['[1,2]', 'application/json'],
    ['7', 'application/json'],
    ['not json', 'text/plain'],
  ])('register - the body %s (%s) is a 400, not a 500', async (payload, type) => {
    const res = await register(h.app, payload, type);
    expect(res.statusCode).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({ error_code: 9001 });
  });

  it('register - user names differing only in case are one name', async () => {
    const first = await register(h.app, JSON.stringify({ userName: 'Alice', userPwd: MD5 }));
    expect(JSON.parse(first.body)).toMatchObject({ error_code: 200 });
    const second = await register(h.app, JSON.stringify({ userName: 'alice', userPwd: MD5 }));
    expect(second.statusCode).toBe(200);
    expect(JSON.parse(second.body)).toEqual({ error_code: 9000, error_msg: 'user already exists' });
    const v1 = await h.app.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers: auth,
      payload: { userName: 'ALICE' },
    });
    expect(v1.statusCode).toBe(409);
  });

  it('register - an oversized body is a 413 in the legacy format', async () => {
    const res = await register(
      h.app,
      JSON.stringify({ userName: 'x', userPwd: MD5, pad: 'x'.repeat(70_000) }),
    );
    expect(res.statusCode).toBe(413);
    expect(JSON.parse(res.body)).toMatchObject({ error_code: 9001 });
  });
});

describe('api - /api/v1 body schemas', () => {
  let h: Harness;
  let userId: number;
  beforeAll(async () => {
    h = await setup();
    userId = (await h.store.users.create({ userName: 'owner' })).userId;
  });
  afterAll(() => h.close());

  const cases: Array<[string, 'POST' | 'PUT' | 'DELETE' | 'GET', string, unknown]> = [
    ['userName not a string', 'POST', '/api/v1/users', { userName: 5 }],
    ['userName with a space', 'POST', '/api/v1/users', { userName: 'a b' }],
    ['an unknown property', 'POST', '/api/v1/users', { userName: 'zed', admin: true }],
    ['a scalar body', 'POST', '/api/v1/users', 5],
    ['keepExisting as text', 'POST', '/api/v1/users/{id}/tokens', { keepExisting: 'true' }],
    ['an unknown platform', 'POST', '/api/v1/users/{id}/devices', { platform: 'sms', token: 't' }],
    ['a missing token', 'POST', '/api/v1/users/{id}/devices', { platform: 'fcm' }],
    [
      'clientType as text',
      'POST',
      '/api/v1/users/{id}/devices',
      { platform: 'fcm', token: 't', clientType: '1' },
    ],
    ['no platform to remove', 'DELETE', '/api/v1/users/{id}/devices', { token: 't' }],
    ['sessionType as text', 'PUT', '/api/v1/users/{id}/mutes', { sessionType: '1', sessionId: 5 }],
    ['sessionId out of range', 'PUT', '/api/v1/users/{id}/mutes', { sessionType: 1, sessionId: 2 ** 53 }],
    ['a connId number', 'POST', '/api/v1/users/{id}/kick', { connId: 5 }],
    ['a hex user id', 'GET', '/api/v1/users/0x10', undefined],
    ['a padded user id', 'GET', '/api/v1/users/%2077', undefined],
    ['sessionType 3', 'GET', '/api/v1/users/{id}/receipts/3/5', undefined],
  ];

  it.each(cases)(
    'schemas - %s is a 400 IM_ERR_INVALID_ARGUMENT naming the field',
    async (_what, method, url, body) => {
      const res = await h.app.inject({
        method,
        url: url.replace('{id}', String(userId)),
        headers: { ...auth, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
      });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({
        error: { code: 'IM_ERR_INVALID_ARGUMENT', message: expect.any(String) },
      });
      expect(res.json().error.message).toMatch(/body|params/);
    },
  );

  it('schemas - well-formed bodies pass, including a POST without a body', async () => {
    const token = await h.app.inject({
      method: 'POST',
      url: `/api/v1/users/${userId}/tokens`,
      headers: auth,
    });
    expect(token.statusCode).toBe(201);
    const device = await h.app.inject({
      method: 'POST',
      url: `/api/v1/users/${userId}/devices`,
      headers: auth,
      payload: { platform: 'fcm', token: 'tok', clientType: 1 },
    });
    expect(device.statusCode).toBe(204);
    const mute = await h.app.inject({
      method: 'PUT',
      url: `/api/v1/users/${userId}/mutes`,
      headers: auth,
      payload: { sessionType: 2, sessionId: 9, muted: true },
    });
    expect(mute.statusCode).toBe(204);
    expect(await h.store.mutes.isMuted(userId, 2, 9)).toBe(true);
    const receipts = await h.app.inject({ url: `/api/v1/users/${userId}/receipts/1/5`, headers: auth });
    expect(receipts.statusCode).toBe(200);
  });

  it('schemas - the API key is checked before the body (401, not 400)', async () => {
    const res = await h.app.inject({ method: 'POST', url: '/api/v1/users', payload: { userName: 5 } });
    expect(res.statusCode).toBe(401);
  });
});

/** Resolves with the ms from now until the server closes `socket`. */
function closedWithin(socket: Socket): Promise<number> {
  const started = Date.now();
  return new Promise((resolve) => socket.once('close', () => resolve(Date.now() - started)));
}

/** `closed`, or -1 if it has not resolved by the deadline. */
async function orDeadline(closed: Promise<number>, ms = 5_000): Promise<number> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<number>((r) => (timer = setTimeout(() => r(-1), ms)));
  try {
    return await Promise.race([closed, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

describe('api - connection limits (real sockets)', () => {
  let h: Harness;
  let port: number;
  const sockets: Socket[] = [];
  const timers: NodeJS.Timeout[] = [];

  beforeEach(async () => {
    h = await setup({
      requestTimeoutMs: 600,
      headersTimeoutMs: 400,
      connectionTimeoutMs: 10_000,
      maxConnections: 4,
    });
    await h.app.listen({ host: '127.0.0.1', port: 0 });
    port = (h.app.server.address() as AddressInfo).port;
  });
  afterEach(async () => {
    for (const t of timers.splice(0)) clearInterval(t);
    for (const s of sockets.splice(0)) s.destroy();
    await h.close();
  });

  async function open(): Promise<Socket> {
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => undefined);
    sockets.push(socket);
    await new Promise((resolve) => socket.once('connect', resolve));
    return socket;
  }

  function trickle(socket: Socket, everyMs: number): void {
    timers.push(setInterval(() => socket.writable && socket.write('x'), everyMs));
  }

  async function wellBehaved(): Promise<number> {
    const res = await fetch(`http://127.0.0.1:${port}/user/register`, {
      method: 'POST',
      body: JSON.stringify({
        userName: `ok${Date.now()}${Math.random().toString(36).slice(2, 6)}`,
        userPwd: MD5,
      }),
    });
    expect(JSON.parse(await res.text())).toMatchObject({ error_code: 200 });
    return res.status;
  }

  it('limits - a body trickled byte by byte is answered 408 and closed within the request timeout', async () => {
    const slow = await open();
    let received = '';
    slow.on('data', (d) => (received += d.toString()));
    const closed = closedWithin(slow);
    slow.write(
      'POST /user/register HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\n{',
    );
    // Every 100 ms a byte: never idle, so only the request timeout can end it.
    trickle(slow, 100);
    expect(await wellBehaved()).toBe(200);
    const ms = await orDeadline(closed);
    expect(ms).toBeGreaterThanOrEqual(500);
    expect(ms).toBeLessThan(3_000);
    expect(received).toMatch(/^HTTP\/1.1 408/);
    expect(h.warnings.some((w) => w.obj.event === 'request timeout')).toBe(true);
    expect(await wellBehaved()).toBe(200);
  });

  it('limits - headers trickled byte by byte are closed within the headers timeout', async () => {
    const slow = await open();
    const closed = closedWithin(slow);
    slow.write('GET /healthz HTTP/1.1\r\nX-Slow: ');
    trickle(slow, 100);
    expect(await wellBehaved()).toBe(200);
    const ms = await orDeadline(closed);
    expect(ms).toBeGreaterThanOrEqual(300);
    expect(ms).toBeLessThan(2_500);
  });

  it('limits - connections beyond maxConnections are dropped and logged; the others are served', async () => {
    const held = [await open(), await open(), await open()];
    // 3 idle sockets + the well-behaved client's (kept alive) = 4, the limit: it is still served.
    expect(await wellBehaved()).toBe(200);
    const extra = await open();
    await closedWithin(extra);
    await waitFor(() => h.warnings.some((w) => w.obj.event === 'dropped'), { message: 'drop logged' });
    for (const s of held) expect(s.destroyed).toBe(false);
  });
});

describe('api - idle connections (real sockets)', () => {
  it('limits - a socket that sends nothing is destroyed after the connection timeout, and logged', async () => {
    const h = await setup({ connectionTimeoutMs: 300, requestTimeoutMs: 10_000, headersTimeoutMs: 10_000 });
    try {
      await h.app.listen({ host: '127.0.0.1', port: 0 });
      const socket = connect((h.app.server.address() as AddressInfo).port, '127.0.0.1');
      socket.on('error', () => undefined);
      await new Promise((resolve) => socket.once('connect', resolve));
      const ms = await orDeadline(closedWithin(socket));
      expect(ms).toBeGreaterThanOrEqual(250);
      expect(ms).toBeLessThan(2_000);
      expect(h.warnings.some((w) => w.obj.event === 'idle timeout')).toBe(true);
      socket.destroy();
    } finally {
      await h.close();
    }
  });
});

describe('api - ending a token ends the sessions logged in with it', () => {
  let h: Harness;
  let cache: MemoryCache;
  const published: OutgoingMessage[] = [];
  // Records kicks; the send API's answer topic and the schedule timers are provisioned and
  // subscribed, and never used here.
  const bus = {
    publish: async (m: OutgoingMessage) => void published.push(m),
    ensureTopics: async () => undefined,
    ensureGroups: async () => undefined,
    subscribe: async () => ({ close: async () => undefined }),
    subscribeBatch: async () => ({ close: async () => undefined }),
  } as unknown as MessageBus;
  beforeEach(async () => {
    published.length = 0;
    cache = new MemoryCache();
    h = await setup({}, { bus, cache, tokenResweepMs: 100 });
  });
  afterEach(() => h.close());

  /** The connections kicked so far, per gate topic, with the reason each learnt. */
  const kicked = () =>
    published.flatMap((m) =>
      mqim.v1.GateBatch.decode(m.body).commands.map((c) => ({
        topic: m.topic,
        connId: c.connId,
        reason: CIM.Ext.MqimKickOutNotify.decode(c.body ?? new Uint8Array()).reason,
      })),
    );

  const issue = async (userId: number, keepExisting: boolean) => {
    const res = await h.app.inject({
      method: 'POST',
      url: `/api/v1/users/${userId}/tokens`,
      headers: auth,
      payload: { keepExisting },
    });
    expect(res.statusCode).toBe(201);
    return res.json<{ token: string; tokenId: string }>();
  };

  it('tokens - revoking one token kicks only its sessions; rotating kicks the rest of the token sessions, never password ones', async () => {
    const { userId } = await h.store.users.create({ userName: 'tina' });
    const phone = await issue(userId, true);
    const laptop = await issue(userId, true);
    expect(phone.tokenId).toBe(tokenIdOf(phone.token));
    const route = (gateId: string, connId: string, tokenId?: string) =>
      cache.routes.register({ userId, gateId, connId, clientType: 1, loginAt: 1, tokenId }, 60_000);
    await route('g1', 'c-phone', phone.tokenId);
    await route('g2', 'c-laptop', laptop.tokenId);
    await route('g2', 'c-password');

    const revoked = await h.app.inject({
      method: 'DELETE',
      url: `/api/v1/users/${userId}/tokens/${phone.tokenId}`,
      headers: auth,
    });
    expect(revoked.statusCode).toBe(204);
    expect(kicked()).toEqual([
      { topic: 'im-gate-g1', connId: 'c-phone', reason: KickOutReason.CREDENTIALS_REVOKED },
    ]);
    expect(await h.store.tokens.verify(userId, phone.token)).toBe(false);
    expect(await h.store.tokens.verify(userId, laptop.token)).toBe(true);

    published.length = 0;
    await cache.routes.unregister(userId, 'g1', 'c-phone');
    const rotated = await issue(userId, false);
    expect(kicked()).toEqual([
      { topic: 'im-gate-g2', connId: 'c-laptop', reason: KickOutReason.CREDENTIALS_REVOKED },
    ]);
    expect(await h.store.tokens.liveIds(userId)).toEqual([rotated.tokenId]);
  });

  it('tokens - a login with an ended token whose route lands after the first look is found by the second', async () => {
    const { userId } = await h.store.users.create({ userName: 'una' });
    const old = await issue(userId, true);
    await issue(userId, false);
    expect(kicked()).toEqual([]);
    // Verified before the rotation, registered after it.
    await cache.routes.register(
      { userId, gateId: 'g1', connId: 'late', clientType: 1, loginAt: 1, tokenId: old.tokenId },
      60_000,
    );
    await waitFor(() => kicked().length === 1, { timeoutMs: 2000, message: 'the second look kicked it' });
    expect(kicked()[0]).toMatchObject({ connId: 'late' });
  });

  it('tokens - a malformed token id is a 400', async () => {
    const res = await h.app.inject({ method: 'DELETE', url: '/api/v1/users/5/tokens/XYZ', headers: auth });
    expect(res.statusCode).toBe(400);
  });
});
