import { backoffDelay, parseRetryAfter, resolveRetry, withRetry, type AttemptOutcome } from './retry.policy';

describe('retry policy', () => {
  it('retry - Retry-After takes seconds or an HTTP date, and ignores garbage', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:10 GMT', now)).toBe(10_000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 00:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });

  it('retry - backoff is full jitter under a doubling ceiling capped at maxDelayMs', () => {
    const top = resolveRetry({ baseDelayMs: 100, maxDelayMs: 1000, random: () => 0.999999 });
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, top))).toEqual([99, 199, 399, 799, 999, 999]);
    const bottom = resolveRetry({ baseDelayMs: 100, random: () => 0 });
    expect(backoffDelay(3, bottom)).toBe(0);
  });

  it('retry - stops at the attempt limit with the last reason', async () => {
    const policy = resolveRetry({ attempts: 3, baseDelayMs: 1 });
    let calls = 0;
    const { result, attempts } = await withRetry(policy, new AbortController().signal, async (n) => {
      calls++;
      return { kind: 'retry', reason: `fail ${n}` } satisfies AttemptOutcome;
    });
    expect(calls).toBe(3);
    expect(attempts).toBe(3);
    expect(result).toEqual({ ok: false, permanent: false, reason: 'fail 3 (after 3 attempts)' });
  });

  it('retry - an abort during backoff ends with closed', async () => {
    const policy = resolveRetry({ attempts: 5, baseDelayMs: 10_000, maxDelayMs: 10_000, random: () => 0.5 });
    const controller = new AbortController();
    const run = withRetry(
      policy,
      controller.signal,
      async () => ({ kind: 'retry', reason: 'x' }) as AttemptOutcome,
    );
    setTimeout(() => controller.abort(), 10);
    expect(await run).toEqual({ result: { ok: false, permanent: false, reason: 'closed' }, attempts: 1 });
  });

  it('retry - attempts below 1 are refused', () => {
    expect(() => resolveRetry({ attempts: 0 })).toThrow(RangeError);
  });
});
