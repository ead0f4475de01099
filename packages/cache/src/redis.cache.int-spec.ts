import Redis from 'ioredis';
import { describeInfra, probeRedis, uniqueName, waitFor } from '@mqim/testing';
import { deleteRedisKeys, runCacheContract } from './testing';
import { RedisCache } from './redis.cache';

const redis = probeRedis();

describeInfra('RedisCache', redis, () => {
  let admin: Redis;
  const prefixes: string[] = [];

  beforeAll(() => {
    admin = new Redis(redis.url, { maxRetriesPerRequest: 1 });
  });
  afterAll(async () => {
    // Belt and braces: every fixture already deleted its keys in dispose().
    for (const prefix of prefixes) await deleteRedisKeys(admin, prefix);
    await admin.quit();
  });

  runCacheContract('RedisCache', async () => {
    const keyPrefix = `${uniqueName('cache_int')}:`;
    prefixes.push(keyPrefix);
    const cache = new RedisCache({ url: redis.url, keyPrefix });
    return {
      cache,
      wipe: async () => {
        await deleteRedisKeys(admin, keyPrefix);
      },
      dispose: async () => {
        await cache.close();
        await deleteRedisKeys(admin, keyPrefix);
      },
    };
  });

  describe('RedisCache - token buckets', () => {
    const keyPrefix = `${uniqueName('cache_bucket')}:`;
    let cache: RedisCache;
    beforeAll(() => {
      prefixes.push(keyPrefix);
      cache = new RedisCache({ url: redis.url, keyPrefix });
    });
    afterAll(() => cache.close());

    it('buckets - a bucket key lives until the bucket would be full again, and no longer', async () => {
      await cache.rates.take('send:u:1', 10, { perSecond: 4, burst: 10 });
      const ttl = await admin.pttl(`${keyPrefix}bucket:send:u:1`);
      // 10 tokens at 4/s: full again in 2.5 s.
      expect(ttl).toBeGreaterThan(2_000);
      expect(ttl).toBeLessThanOrEqual(2_501);
      expect(await admin.hget(`${keyPrefix}bucket:send:u:1`, 'at')).toMatch(/^\d{13}$/);
    });
  });

  describe('RedisCache - key layout', () => {
    const keyPrefix = `${uniqueName('cache_layout')}:`;
    let cache: RedisCache;
    beforeAll(() => {
      prefixes.push(keyPrefix);
      cache = new RedisCache({ url: redis.url, keyPrefix, sequenceTtlMs: 60_000, receiptTtlMs: 0 });
    });
    afterAll(() => cache.close());

    it('layout - every key lives under the prefix and expires as documented', async () => {
      await cache.routes.register(
        { userId: 1, gateId: 'g1', connId: 'c1', clientType: 1, loginAt: 5 },
        30_000,
      );
      await cache.sequences.next('conv', async () => 0);
      await cache.receipts.record([{ userId: 1, sessionType: 1, sessionId: 2, serverMsgId: 3, at: 4 }]);
      await cache.presence.beat(
        { role: 'gate', id: 'g1', pid: 1, host: 'h', startedAt: 1, version: 'v' },
        15_000,
      );
      const keys = (await admin.keys(`${keyPrefix}*`)).sort();
      expect(keys).toEqual(
        ['gate:g1', 'gates', 'presence', 'rcpt-dirty', 'rcpt:1', 'route:1', 'seq:conv'].map(
          (k) => `${keyPrefix}${k}`,
        ),
      );
      const ttl = async (k: string): Promise<number> => admin.pttl(`${keyPrefix}${k}`);
      expect(await ttl('route:1')).toBeGreaterThan(29_000);
      expect(await ttl('route:1')).toBeLessThanOrEqual(30_000);
      expect(await ttl('gate:g1')).toBeGreaterThan(29_000);
      expect(await ttl('seq:conv')).toBeGreaterThan(59_000);
      expect(await ttl('rcpt:1')).toBe(-1);
      expect(await ttl('rcpt-dirty')).toBe(-1);
      // Both indexes are trimmed on read (scores are expiries), so they need no TTL of their own.
      expect(await ttl('gates')).toBe(-1);
      expect(await ttl('presence')).toBe(-1);
    });

    it('layout - the route key is gone once its last route expired', async () => {
      await cache.routes.register({ userId: 2, gateId: 'g1', connId: 'c1', clientType: 1, loginAt: 5 }, 100);
      // Redis expires it on its own clock: wait for that, however loaded this machine is.
      await waitFor(async () => (await admin.exists(`${keyPrefix}route:2`)) === 0, {
        timeoutMs: 5000,
        message: 'the route key outlived its last route',
      });
    });
  });
});
