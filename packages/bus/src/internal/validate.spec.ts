import { subscribeLimits } from './validate';

describe('bus options - one set of subscribe defaults for every bus', () => {
  it("defaults - the port's documented defaults", () => {
    expect(subscribeLimits({})).toEqual({
      concurrency: 16,
      invisibleMs: 30_000,
      maxDeliveryAttempts: 16,
      maxBatch: 32,
    });
    expect(subscribeLimits({ concurrency: 256, maxBatch: 1 })).toMatchObject({
      concurrency: 256,
      maxBatch: 1,
    });
  });

  it('validation - a limit that is not a positive integer is refused, by name', () => {
    expect(() => subscribeLimits({ concurrency: 0 })).toThrow(/concurrency must be a positive integer/);
    expect(() => subscribeLimits({ invisibleMs: 1.5 })).toThrow(/invisibleMs/);
    expect(() => subscribeLimits({ maxDeliveryAttempts: -1 })).toThrow(/maxDeliveryAttempts/);
  });
});
