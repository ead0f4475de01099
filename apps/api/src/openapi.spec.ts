import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { MemoryBus } from '@mqim/bus';
import { MemoryCache } from '@mqim/cache';
import type { Logger } from '@mqim/config';
import { MqimMetrics } from '@mqim/metrics';
import { MqNames } from '@mqim/protocol';
import { createSqliteStore, type Store } from '@mqim/store';
import { buildApi } from './index';
import { errorCodesOf, type OpenApiDocument } from './openapi.document';

const KEY = 'openapi-key-0123456789';
const auth = { authorization: `Bearer ${KEY}` };
const silent = { warn: () => undefined, error: () => undefined, info: () => undefined } as unknown as Logger;

/** Every route fastify serves, from its own router (`printRoutes`), as `METHOD /path/:param`. */
function servedRoutes(app: FastifyInstance): string[] {
  const out: string[] = [];
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const at = line.search(/[└├]── /);
    if (at < 0) continue;
    const depth = at / 4;
    const m = /^(.*?)(?: \(([^)]*)\))?$/.exec(line.slice(at + 4))!;
    stack.length = depth;
    stack.push(m[1]!);
    for (const method of (m[2] ?? '').split(', ').filter((x) => x && x !== 'HEAD'))
      out.push(`${method} ${stack.join('')}`);
  }
  return out.sort();
}

type Operation = { responses: Record<string, { content?: { 'application/json': { schema: object } } }> };

function operation(doc: OpenApiDocument, method: string, url: string): Operation {
  const path = url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
  const op = doc.paths[path]?.[method.toLowerCase()] as Operation | undefined;
  if (!op) throw new Error(`${method} ${url} is not in the document`);
  return op;
}

/** The answer's status is documented for the route and, for an error, so is its code. */
function expectDocumented(doc: OpenApiDocument, method: string, route: string, res: LightMyRequestResponse) {
  const documented = operation(doc, method, route).responses[String(res.statusCode)];
  expect({ route, status: res.statusCode, documented: documented !== undefined }).toEqual({
    route,
    status: res.statusCode,
    documented: true,
  });
  if (res.statusCode >= 400) {
    const code = (JSON.parse(res.body) as { error: { code: string } }).error.code;
    const codes = errorCodesOf(documented!.content?.['application/json'].schema as Record<string, unknown>);
    expect({ route, status: res.statusCode, code, listed: codes.includes(code) }).toEqual({
      route,
      status: res.statusCode,
      code,
      listed: true,
    });
  }
}

describe('openapi - the document is built from the routes and tells the truth about them', () => {
  let app: FastifyInstance;
  let store: Store;
  let cache: MemoryCache;
  let bus: MemoryBus;
  let doc: OpenApiDocument;

  beforeAll(async () => {
    store = await createSqliteStore({ filename: ':memory:' });
    cache = new MemoryCache();
    bus = new MemoryBus();
    // Provisioned as `mqim provision` would; no logic consumes, so sends wait for an answer in vain.
    await bus.ensureTopics(new MqNames('im').sharedTopics());
    app = buildApi(
      { apiKey: KEY, topicPrefix: 'im', tokenTtlMs: 60_000, version: '9.9.9', sendTimeoutMs: 200 },
      {
        store,
        cache,
        bus,
        logger: silent,
        metrics: new MqimMetrics({ defaultMetrics: false }),
        health: { check: async () => [] },
      },
    );
    await app.ready();
    const res = await app.inject({ method: 'GET', url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    doc = JSON.parse(res.body) as OpenApiDocument;
  });
  afterAll(async () => {
    await app.close();
    await bus.close();
    await cache.close();
    await store.close();
  });

  it('openapi - every route the server serves is in /openapi.json, with a response for each status', () => {
    const served = servedRoutes(app);
    expect(served.length).toBeGreaterThan(15);
    const documented = Object.entries(doc.paths)
      .flatMap(([path, ops]) =>
        Object.keys(ops).map((m) => `${m.toUpperCase()} ${path.replace(/\{([^}]+)\}/g, ':$1')}`),
      )
      .sort();
    expect(documented).toEqual(served);
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.version).toBe('9.9.9');
    for (const [path, ops] of Object.entries(doc.paths))
      for (const [method, op] of Object.entries(ops)) {
        const responses = Object.keys((op as Operation).responses);
        expect({ route: `${method} ${path}`, responses }).not.toEqual({
          route: `${method} ${path}`,
          responses: ['default'],
        });
      }
  });

  it('openapi - routes that take input declare it: path ids, bodies, the send headers', () => {
    const send = operation(doc, 'POST', '/api/v1/messages') as Operation & {
      requestBody?: object;
      parameters?: { name: string; in: string }[];
    };
    expect(send.requestBody).toBeDefined();
    expect(send.parameters).toEqual([expect.objectContaining({ name: 'idempotency-key', in: 'header' })]);
    const user = operation(doc, 'GET', '/api/v1/users/:id') as Operation & {
      parameters?: { name: string }[];
    };
    expect(user.parameters?.map((p) => p.name)).toEqual(['id']);
  });

  it('openapi - /docs renders a page naming every path', async () => {
    const res = await app.inject({ method: 'GET', url: '/docs' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    for (const path of Object.keys(doc.paths)) expect(res.body).toContain(`<code>${path}</code>`);
  });

  it('openapi - every /api/v1 route answers a missing key with the documented 401', async () => {
    let checked = 0;
    for (const [path, ops] of Object.entries(doc.paths)) {
      if (!path.startsWith('/api/v1/')) continue;
      for (const method of Object.keys(ops)) {
        const route = path.replace(/\{([^}]+)\}/g, ':$1');
        const url = path.replace(/\{[^}]+\}/g, '1');
        const res = await app.inject({ method: method.toUpperCase() as 'GET', url });
        expect(res.statusCode).toBe(401);
        expectDocumented(doc, method.toUpperCase(), route, res);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(10);
  });

  it('openapi - the error codes routes send for bad input, missing things and conflicts are the documented ones', async () => {
    const call = async (
      method: 'GET' | 'POST' | 'PUT' | 'DELETE',
      route: string,
      url: string,
      payload?: object,
    ) => {
      const res = await app.inject({ method, url, headers: auth, payload });
      expectDocumented(doc, method, route, res);
      return res;
    };
    expect(
      (await call('POST', '/api/v1/users', '/api/v1/users', { userName: 'ann', password: 'x' })).statusCode,
    ).toBe(201);
    expect((await call('POST', '/api/v1/users', '/api/v1/users', { userName: 'ann' })).statusCode).toBe(409);
    expect((await call('POST', '/api/v1/users', '/api/v1/users', { userName: 5 })).statusCode).toBe(400);
    expect((await call('GET', '/api/v1/users/:id', '/api/v1/users/424242')).statusCode).toBe(404);
    expect((await call('GET', '/api/v1/users/:id', '/api/v1/users/0x10')).statusCode).toBe(400);
    expect(
      (await call('POST', '/api/v1/users/:id/tokens', '/api/v1/users/424242/tokens', {})).statusCode,
    ).toBe(404);
    expect(
      (await call('PUT', '/api/v1/users/:id/mutes', '/api/v1/users/1/mutes', { sessionType: 3 })).statusCode,
    ).toBe(400);
    expect((await call('GET', '/api/v1/online', '/api/v1/online?limit=0')).statusCode).toBe(400);
    // The send API: schema refusals, an unknown sender, and no logic to answer (504).
    expect(
      (await call('POST', '/api/v1/messages', '/api/v1/messages', { from: 1, sessionType: 1 })).statusCode,
    ).toBe(400);
    expect(
      (
        await call('POST', '/api/v1/messages', '/api/v1/messages', {
          from: 424242,
          sessionType: 1,
          to: 1,
          text: 'x',
        })
      ).statusCode,
    ).toBe(404);
    expect(
      (
        await call('POST', '/api/v1/messages', '/api/v1/messages', {
          from: 1,
          sessionType: 1,
          to: 2,
          text: 'x',
        })
      ).statusCode,
    ).toBe(504);
  });
});
