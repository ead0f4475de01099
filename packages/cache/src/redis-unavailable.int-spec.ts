import { createServer, connect, type Server, type Socket } from 'node:net';
import { describeInfra, freePort, probeRedis, uniqueName } from '@mqim/testing';
import { CacheUnavailableError } from './cache.errors';
import { RedisCache } from './redis.cache';
import { deleteRedisKeys } from './testing';
import Redis from 'ioredis';

const redis = probeRedis();
const seed = async (): Promise<number> => 0;

/** Resolves with how long `op` took to reject, failing the test if it resolved. */
async function rejectionTime(op: () => Promise<unknown>): Promise<{ ms: number; error: unknown }> {
  const start = Date.now();
  try {
    await op();
  } catch (error) {
    return { ms: Date.now() - start, error };
  }
  throw new Error('expected the operation to fail');
}

/** A TCP server on `port` that either forwards to Redis or swallows everything (a hung Redis). */
async function startServer(port: number, mode: 'proxy' | 'blackhole'): Promise<{ stop(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const target = redis.endpoints[0];
  const server: Server = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => undefined);
    if (mode === 'blackhole') return;
    const upstream = connect(target.port, target.host);
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

const fastFail = { connectTimeoutMs: 500, commandTimeoutMs: 500, maxRetriesPerRequest: 1 };

describe('RedisCache - unavailable', () => {
  it('unavailable - nothing listening: calls reject with CacheUnavailableError, boundedly', async () => {
    const port = await freePort();
    const cache = new RedisCache({ url: `redis://127.0.0.1:${port}`, keyPrefix: 'never:', ...fastFail });
    try {
      const { ms, error } = await rejectionTime(() => cache.sequences.next('k', seed));
      expect(error).toBeInstanceOf(CacheUnavailableError);
      expect(error).toMatchObject({ code: 'IM_ERR_CACHE_UNAVAILABLE' });
      expect(ms).toBeLessThan(3_000);
      await expect(cache.routes.lookup([1, 2])).rejects.toBeInstanceOf(CacheUnavailableError);
      await expect(cache.receipts.takeDirty(10)).rejects.toBeInstanceOf(CacheUnavailableError);
    } finally {
      await cache.close();
    }
  });

  it('unavailable - a server that never answers: calls reject after commandTimeoutMs', async () => {
    const port = await freePort();
    const hung = await startServer(port, 'blackhole');
    const cache = new RedisCache({ url: `redis://127.0.0.1:${port}`, keyPrefix: 'never:', ...fastFail });
    try {
      const { ms, error } = await rejectionTime(() => cache.routes.lookup([1]));
      expect(error).toBeInstanceOf(CacheUnavailableError);
      expect(ms).toBeLessThan(3_000);
    } finally {
      await cache.close();
      await hung.stop();
    }
  });
});

describeInfra('RedisCache - connection loss', redis, () => {
  it('unavailable - Redis going away mid-run fails calls fast, and the cache heals when it is back', async () => {
    const port = await freePort();
    const keyPrefix = `${uniqueName('cache_loss')}:`;
    const admin = new Redis(redis.url);
    let proxy = await startServer(port, 'proxy');
    const cache = new RedisCache({ url: `redis://127.0.0.1:${port}`, keyPrefix, ...fastFail });
    try {
      expect(await cache.sequences.next('k', seed)).toBe(1);

      await proxy.stop();
      const { ms, error } = await rejectionTime(() => cache.sequences.next('k', seed));
      expect(error).toBeInstanceOf(CacheUnavailableError);
      expect(ms).toBeLessThan(3_000);

      proxy = await startServer(port, 'proxy');
      let value = 0;
      for (let attempt = 0; attempt < 50 && value === 0; attempt++) {
        value = await cache.sequences.next('k', seed).catch(() => 0);
        if (value === 0) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(value).toBe(2);
    } finally {
      await cache.close();
      await proxy.stop();
      await deleteRedisKeys(admin, keyPrefix);
      await admin.quit();
    }
  });
});
