import type { Cache } from '../cache.port';
import { describeAttemptContract } from './attempts.contract';
import { describePresenceContract } from './presence.contract';
import { describeBucketContract } from './buckets.contract';
import { describeCallContract } from './calls.contract';
import { describeIdempotencyContract } from './idempotency.contract';
import { describeReceiptContract } from './receipts.contract';
import { describeRouteContract } from './routes.contract';
import { describeSequenceContract } from './sequences.contract';

/** One implementation under test, fresh for every test. */
export interface CacheFixture {
  readonly cache: Cache;
  /** Loses every piece of data, as a Redis restart without persistence does. */
  wipe(): Promise<void>;
  /** Deletes what the test left and closes the cache; must tolerate an already closed cache. */
  dispose(): Promise<void>;
}

export type CacheFactory = () => Promise<CacheFixture>;

/** Returns the current test's fixture; valid inside tests and hooks only. */
export type FixtureRef = () => CacheFixture;

/**
 * The `Cache` contract (see cache.port.ts), run against one implementation. Every test gets its own
 * fixture from `factory`, so implementations backed by a shared server must isolate each fixture
 * (a unique key prefix).
 */
export function runCacheContract(name: string, factory: CacheFactory): void {
  describe(`${name} - cache contract`, () => {
    let current: CacheFixture | undefined;
    beforeEach(async () => {
      current = await factory();
    });
    afterEach(async () => {
      await current?.dispose();
      current = undefined;
    });
    const fixture: FixtureRef = () => {
      if (current === undefined) throw new Error('cache fixture used outside a test');
      return current;
    };

    describeRouteContract(fixture);
    describeSequenceContract(fixture);
    describeReceiptContract(fixture);
    describeAttemptContract(fixture);
    describePresenceContract(fixture);
    describeBucketContract(fixture);
    describeCallContract(fixture);
    describeIdempotencyContract(fixture);

    it('cache - calls after close() reject with CacheUnavailableError', async () => {
      const { cache } = fixture();
      await cache.close();
      await expect(cache.routes.lookup([1])).rejects.toMatchObject({ code: 'IM_ERR_CACHE_UNAVAILABLE' });
      await expect(cache.sequences.next('k', async () => 0)).rejects.toMatchObject({
        code: 'IM_ERR_CACHE_UNAVAILABLE',
      });
      await expect(cache.receipts.deliveredUpTo(1, 1, 1)).rejects.toMatchObject({
        code: 'IM_ERR_CACHE_UNAVAILABLE',
      });
      await expect(cache.attempts.blockedFor(['k'])).rejects.toMatchObject({
        code: 'IM_ERR_CACHE_UNAVAILABLE',
      });
      await expect(cache.presence.list()).rejects.toMatchObject({ code: 'IM_ERR_CACHE_UNAVAILABLE' });
      await expect(cache.routes.gates()).rejects.toMatchObject({ code: 'IM_ERR_CACHE_UNAVAILABLE' });
      await expect(cache.rates.take('k', 1, { perSecond: 1, burst: 1 })).rejects.toMatchObject({
        code: 'IM_ERR_CACHE_UNAVAILABLE',
      });
    });
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
