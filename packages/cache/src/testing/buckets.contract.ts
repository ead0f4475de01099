import { InvalidCacheArgumentError } from '../cache.errors';
import type { RatePolicy } from '../cache.port';
import { sleep, type FixtureRef } from './cache.contract';

export function describeBucketContract(fixture: FixtureRef): void {
  describe('buckets', () => {
    it('buckets - a new bucket is full; grants are partial and never exceed what it holds', async () => {
      const { rates } = fixture().cache;
      const slow: RatePolicy = { perSecond: 0.01, burst: 5 };
      expect(await rates.take('b:a', 3, slow)).toBe(3);
      expect(await rates.take('b:a', 3, slow)).toBe(2);
      expect(await rates.take('b:a', 3, slow)).toBe(0);
      expect(await rates.take('b:a', 1, slow)).toBe(0);
      // Another key is a bucket of its own.
      expect(await rates.take('b:other', 10, slow)).toBe(5);
    });

    it('buckets - refill follows the rate and stops at the burst', async () => {
      const { rates } = fixture().cache;
      const p: RatePolicy = { perSecond: 20, burst: 10 };
      expect(await rates.take('b:r', 10, p)).toBe(10);
      const emptied = Date.now();
      await sleep(300);
      const got = await rates.take('b:r', 100, p);
      const elapsed = Date.now() - emptied;
      // 20/s: about 6 tokens in 300 ms; bounded by the elapsed time on both sides.
      expect(got).toBeGreaterThanOrEqual(Math.floor(((elapsed - 100) * 20) / 1000));
      expect(got).toBeLessThanOrEqual(Math.ceil(((elapsed + 100) * 20) / 1000));
      await sleep(700);
      expect(await rates.take('b:r', 100, p)).toBe(10);
    });

    it('buckets - concurrent takes from many callers hand out the burst once in total', async () => {
      const { rates } = fixture().cache;
      const p: RatePolicy = { perSecond: 0.01, burst: 25 };
      const grants = await Promise.all(Array.from({ length: 40 }, () => rates.take('b:c', 2, p)));
      expect(grants.reduce((a, b) => a + b, 0)).toBe(25);
      expect(grants.every((g) => g >= 0 && g <= 2)).toBe(true);
    });

    it('buckets - losing the data refills the buckets (one fresh burst)', async () => {
      const fx = fixture();
      const p: RatePolicy = { perSecond: 0.01, burst: 4 };
      expect(await fx.cache.rates.take('b:w', 4, p)).toBe(4);
      expect(await fx.cache.rates.take('b:w', 4, p)).toBe(0);
      await fx.wipe();
      expect(await fx.cache.rates.take('b:w', 4, p)).toBe(4);
    });

    it('buckets - invalid keys, counts and policies are rejected', async () => {
      const { rates } = fixture().cache;
      const p: RatePolicy = { perSecond: 1, burst: 1 };
      for (const call of [
        () => rates.take('', 1, p),
        () => rates.take('x'.repeat(257), 1, p),
        () => rates.take('k', 0, p),
        () => rates.take('k', 1.5, p),
        () => rates.take('k', 1, { perSecond: 0, burst: 1 }),
        () => rates.take('k', 1, { perSecond: Number.NaN, burst: 1 }),
        () => rates.take('k', 1, { perSecond: 1, burst: 0 }),
      ])
        await expect(call()).rejects.toBeInstanceOf(InvalidCacheArgumentError);
    });
  });
}
