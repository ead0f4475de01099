import { reconnectDelay, resolveReconnectOptions } from './reconnect.policy';

describe('reconnectDelay', () => {
  const policy = resolveReconnectOptions({ initialDelayMs: 100, maxDelayMs: 1000, factor: 2, jitter: 0.5 });

  it('backoff - doubles per attempt up to the cap', () => {
    const noJitter = (): number => 0;
    expect([1, 2, 3, 4, 5, 6].map((n) => reconnectDelay(n, policy, noJitter))).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
  });

  it('jitter - takes at most the jitter share off the delay', () => {
    expect(reconnectDelay(3, policy, () => 1)).toBe(200);
    expect(reconnectDelay(3, policy, () => 0.5)).toBe(300);
  });

  it('defaults - 500 ms doubling to 30 s, forever', () => {
    expect(resolveReconnectOptions({})).toEqual({
      initialDelayMs: 500,
      maxDelayMs: 30_000,
      factor: 2,
      jitter: 0.5,
      maxAttempts: Number.POSITIVE_INFINITY,
    });
  });
});
