import { InvalidCacheArgumentError } from '../cache.errors';
import { sleep, type FixtureRef } from './cache.contract';

export function describeIdempotencyContract(fixture: FixtureRef): void {
  describe('idempotency', () => {
    it('idempotency - the first claim holds the key; later ones see it pending, then answered', async () => {
      const { idempotency } = fixture().cache;
      expect(await idempotency.claim('i:a', 'fp1', 60_000)).toEqual({ state: 'claimed' });
      expect(await idempotency.claim('i:a', 'fp2', 60_000)).toEqual({ state: 'pending', fingerprint: 'fp1' });
      await idempotency.complete('i:a', 'fp1', '{"status":201,"body":"a|b"}', 60_000);
      expect(await idempotency.claim('i:a', 'fp1', 60_000)).toEqual({
        state: 'done',
        fingerprint: 'fp1',
        response: '{"status":201,"body":"a|b"}',
      });
      // Another key is free.
      expect(await idempotency.claim('i:b', 'fp1', 60_000)).toEqual({ state: 'claimed' });
    });

    it('idempotency - concurrent claims of a free key: exactly one is claimed', async () => {
      const { idempotency } = fixture().cache;
      const got = await Promise.all(
        Array.from({ length: 20 }, (_, i) => idempotency.claim('i:c', `fp${i}`, 60_000)),
      );
      expect(got.filter((g) => g.state === 'claimed')).toHaveLength(1);
      expect(got.filter((g) => g.state === 'pending')).toHaveLength(19);
    });

    it('idempotency - release frees a pending key; neither release nor complete touches another holder', async () => {
      const { idempotency } = fixture().cache;
      await idempotency.claim('i:r', 'fp1', 60_000);
      // Not the holder: no effect.
      await idempotency.release('i:r', 'other');
      await idempotency.complete('i:r', 'other', 'x', 60_000);
      expect(await idempotency.claim('i:r', 'fp2', 60_000)).toEqual({ state: 'pending', fingerprint: 'fp1' });
      await idempotency.release('i:r', 'fp1');
      expect(await idempotency.claim('i:r', 'fp2', 60_000)).toEqual({ state: 'claimed' });
      await idempotency.complete('i:r', 'fp2', 'answer', 60_000);
      // An answered key is not released.
      await idempotency.release('i:r', 'fp2');
      expect(await idempotency.claim('i:r', 'fp2', 60_000)).toMatchObject({
        state: 'done',
        response: 'answer',
      });
    });

    it('idempotency - pending and answered keys expire', async () => {
      const { idempotency } = fixture().cache;
      await idempotency.claim('i:e', 'fp1', 150);
      await idempotency.claim('i:f', 'fp1', 60_000);
      await idempotency.complete('i:f', 'fp1', 'answer', 150);
      await sleep(400);
      expect(await idempotency.claim('i:e', 'fp2', 60_000)).toEqual({ state: 'claimed' });
      expect(await idempotency.claim('i:f', 'fp2', 60_000)).toEqual({ state: 'claimed' });
    });

    it('idempotency - losing the data forgets the keys', async () => {
      const fx = fixture();
      await fx.cache.idempotency.claim('i:w', 'fp1', 60_000);
      await fx.wipe();
      expect(await fx.cache.idempotency.claim('i:w', 'fp2', 60_000)).toEqual({ state: 'claimed' });
    });

    it('idempotency - invalid keys, fingerprints and ttls are rejected', async () => {
      const { idempotency } = fixture().cache;
      await expect(idempotency.claim('', 'fp', 1000)).rejects.toBeInstanceOf(InvalidCacheArgumentError);
      await expect(idempotency.claim('k'.repeat(257), 'fp', 1000)).rejects.toBeInstanceOf(
        InvalidCacheArgumentError,
      );
      await expect(idempotency.claim('k', 'a|b', 1000)).rejects.toBeInstanceOf(InvalidCacheArgumentError);
      await expect(idempotency.claim('k', 'fp', 0)).rejects.toBeInstanceOf(InvalidCacheArgumentError);
      await expect(idempotency.complete('k', 'fp', 'x', -1)).rejects.toBeInstanceOf(
        InvalidCacheArgumentError,
      );
    });
  });
}
