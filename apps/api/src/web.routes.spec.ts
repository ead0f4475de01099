import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { MemoryCache, type InstanceInfo } from '@mqim/cache';
import { MqimMetrics } from '@mqim/metrics';
import { createSqliteStore, type Store } from '@mqim/store';
import { buildApi, type WebOptions, type WebPage } from './index';

const logger = pino({ level: 'silent' });
const gate = (id: string, address: string): InstanceInfo => ({
  role: 'gate',
  id,
  pid: 1,
  host: 'h',
  startedAt: 1,
  version: '0.1.0',
  address,
});
const page: WebPage = new Map([
  ['/', { contentType: 'text/html; charset=utf-8', body: Buffer.from('<main id="app"></main>') }],
  ['/app.js', { contentType: 'text/javascript; charset=utf-8', body: Buffer.from('console.log(1)') }],
  ['/app.css', { contentType: 'text/css; charset=utf-8', body: Buffer.from('body{}') }],
]);

describe('api - web chat routes', () => {
  let app: FastifyInstance;
  let cache: MemoryCache;
  let store: Store;

  const build = (web: WebOptions) => {
    app = buildApi(
      { apiKey: 'k'.repeat(20), topicPrefix: 'im', tokenTtlMs: 60_000, web },
      {
        store,
        cache,
        logger,
        metrics: new MqimMetrics({ defaultMetrics: false }),
        health: { check: async () => [] },
      },
    );
  };

  beforeEach(async () => {
    store = await createSqliteStore({ filename: ':memory:' });
    cache = new MemoryCache();
  });
  afterEach(async () => {
    await app.close();
    await cache.close();
    await store.close();
  });

  it('page - / and its assets with their content types, not cached across restarts', async () => {
    build({ page: Promise.resolve(page), gateUrls: [] });
    const res = await app.inject({ url: '/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.body).toContain('id="app"');
    expect((await app.inject({ url: '/app.js' })).headers['content-type']).toMatch(/^text\/javascript/);
  });

  it('page - a failed build answers 503 with the reason, and the rest of the api still works', async () => {
    build({ page: Promise.reject(new Error('esbuild: no such file')), gateUrls: [] });
    const res = await app.inject({ url: '/' });
    expect(res.statusCode).toBe(503);
    expect(res.body).toContain('esbuild: no such file');
    expect((await app.inject({ url: '/livez' })).statusCode).toBe(200);
  });

  it('config - every live gate, on the host name the browser used', async () => {
    await cache.presence.beat(gate('gate-1', 'tcp://box:8000 ws://box:8001/ws'), 60_000);
    await cache.presence.beat(gate('gate-2', 'tcp://box:9000 ws://box:9001/ws'), 60_000);
    await cache.presence.beat({ ...gate('api-1', 'http://box:18080'), role: 'api' }, 60_000);
    build({ page: Promise.resolve(page), gateUrls: [] });
    const res = await app.inject({ url: '/web/config.json', headers: { host: 'chat.example.com:18080' } });
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.json()).toEqual({
      gateUrls: ['ws://chat.example.com:8001/ws', 'ws://chat.example.com:9001/ws'],
    });
  });

  it('config - MQIM_WEB_GATE_URL wins (a proxy in front of the gates)', async () => {
    await cache.presence.beat(gate('gate-1', 'tcp://box:8000 ws://box:8001/ws'), 60_000);
    build({ page: Promise.resolve(page), gateUrls: ['wss://im.example.com/ws'] });
    const res = await app.inject({ url: '/web/config.json' });
    expect(res.json()).toEqual({ gateUrls: ['wss://im.example.com/ws'] });
  });

  it('config - no gate online: an empty list (the page says so)', async () => {
    build({ page: Promise.resolve(page), gateUrls: [] });
    expect((await app.inject({ url: '/web/config.json' })).json()).toEqual({ gateUrls: [] });
  });

  it('page - without the web option, / is 404 as before', async () => {
    app = buildApi(
      { apiKey: 'k'.repeat(20), topicPrefix: 'im', tokenTtlMs: 60_000 },
      {
        store,
        cache,
        logger,
        metrics: new MqimMetrics({ defaultMetrics: false }),
        health: { check: async () => [] },
      },
    );
    expect((await app.inject({ url: '/' })).statusCode).toBe(404);
  });
});
