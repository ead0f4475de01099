import { InvalidCacheArgumentError } from '../cache.errors';
import type { AttemptPolicy } from '../cache.port';
import type { FixtureRef } from './cache.contract';

const POLICY: AttemptPolicy = { freeFailures: 2, baseBlockMs: 1_000, maxBlockMs: 4_000, windowMs: 60_000 };

/** Resolves once `check` is true, polling; rejects at the deadline (no fixed sleeps). */
async function eventually(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not true within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function describeAttemptContract(fixture: FixtureRef): void {
  describe('attempts', () => {
    it('attempts - free failures impose nothing; then the block doubles up to the cap', async () => {
      const { attempts } = fixture().cache;
      expect(await attempts.blockedFor(['u:a'])).toBe(0);
      expect(await attempts.fail('u:a', POLICY)).toBe(0);
      expect(await attempts.fail('u:a', POLICY)).toBe(0);
      expect(await attempts.blockedFor(['u:a'])).toBe(0);
      expect(await attempts.fail('u:a', POLICY)).toBe(1_000);
      expect(await attempts.fail('u:a', POLICY)).toBe(2_000);
      expect(await attempts.fail('u:a', POLICY)).toBe(4_000);
      expect(await attempts.fail('u:a', POLICY)).toBe(4_000);
      for (let i = 0; i < 100; i++) await attempts.fail('u:a', POLICY);
      expect(await attempts.fail('u:a', POLICY)).toBe(4_000);
      const wait = await attempts.blockedFor(['u:a']);
      expect(wait).toBeGreaterThan(3_000);
      expect(wait).toBeLessThanOrEqual(4_000);
    });

    it('attempts - keys are independent; blockedFor is the longest wait among the keys', async () => {
      const { attempts } = fixture().cache;
      const strict = { ...POLICY, freeFailures: 0 };
      await attempts.fail('addr:1', strict);
      expect(await attempts.blockedFor(['user:x'])).toBe(0);
      expect(await attempts.blockedFor(['user:x', 'addr:1'])).toBeGreaterThan(0);
      expect(await attempts.blockedFor([])).toBe(0);
    });

    it('attempts - reset forgets a key at once', async () => {
      const { attempts } = fixture().cache;
      const strict = { ...POLICY, freeFailures: 0 };
      await attempts.fail('u:r', strict);
      await attempts.fail('u:r', strict);
      expect(await attempts.blockedFor(['u:r'])).toBeGreaterThan(0);
      await attempts.reset('u:r');
      await attempts.reset('u:never');
      expect(await attempts.blockedFor(['u:r'])).toBe(0);
      expect(await attempts.fail('u:r', strict)).toBe(1_000); // counting starts over
    });

    it('attempts - a block ends when it runs out; failures are forgotten after the window', async () => {
      const { attempts } = fixture().cache;
      const short: AttemptPolicy = { freeFailures: 1, baseBlockMs: 150, maxBlockMs: 150, windowMs: 400 };
      await attempts.fail('u:w', short);
      expect(await attempts.fail('u:w', short)).toBe(150);
      await eventually(async () => (await attempts.blockedFor(['u:w'])) <= 0, 2_000);
      // Still within the window: the next failure is blocked again.
      expect(await attempts.fail('u:w', short)).toBe(150);
      const last = Date.now();
      // Only the passing of the window can be waited for here: any probe before it would extend it.
      await new Promise((r) => setTimeout(r, short.windowMs + 50 - (Date.now() - last)));
      // After a quiet window the key is new: its first failure is free again.
      expect(await attempts.fail('u:w', short)).toBe(0);
    });

    it('attempts - concurrent failures each count once', async () => {
      const { attempts } = fixture().cache;
      const p: AttemptPolicy = { freeFailures: 10, baseBlockMs: 1, maxBlockMs: 1_000_000, windowMs: 60_000 };
      await Promise.all(Array.from({ length: 10 }, () => attempts.fail('u:c', p)));
      expect(await attempts.fail('u:c', p)).toBe(1);
    });

    it('attempts - invalid keys and policies are rejected', async () => {
      const { attempts } = fixture().cache;
      await expect(attempts.fail('', POLICY)).rejects.toBeInstanceOf(InvalidCacheArgumentError);
      await expect(attempts.blockedFor(['x'.repeat(257)])).rejects.toBeInstanceOf(InvalidCacheArgumentError);
      await expect(attempts.fail('k', { ...POLICY, baseBlockMs: 0 })).rejects.toBeInstanceOf(
        InvalidCacheArgumentError,
      );
      await expect(attempts.fail('k', { ...POLICY, freeFailures: -1 })).rejects.toBeInstanceOf(
        InvalidCacheArgumentError,
      );
    });
  });
}
