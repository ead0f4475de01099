import { CacheUnavailableError, MemoryCache, type RatePolicy, type TokenBuckets } from '@mqim/cache';
import { UserSendLimiter } from './user-send.limiter';

/** The shared buckets, counting how often a gate asks them. */
function counted(buckets: TokenBuckets): TokenBuckets & { calls: number } {
  const c = {
    calls: 0,
    take: (key: string, want: number, policy: RatePolicy) => {
      c.calls++;
      return buckets.take(key, want, policy);
    },
  };
  return c;
}

/** Runs `n` sends of `userId`, alternating over the given limiters; what each was told, in send order. */
async function sends(limiters: UserSendLimiter[], userId: number, n: number): Promise<boolean[]> {
  const now = Date.now();
  return Promise.all(Array.from({ length: n }, (_, i) => limiters[i % limiters.length]!.take(userId, now)));
}

describe('gate - sends per user across connections and gates', () => {
  let cache: MemoryCache;
  beforeEach(() => {
    cache = new MemoryCache();
  });
  afterEach(() => cache.close());

  it('two gates sharing the buckets admit one burst of the user in sum; another user has its own', async () => {
    const gate1 = new UserSendLimiter(1, 10, cache.rates);
    const gate2 = new UserSendLimiter(1, 10, cache.rates);
    const told = await sends([gate1, gate2], 7, 30);
    expect(told.filter(Boolean)).toHaveLength(10);
    expect((await sends([gate2], 8, 3)).every(Boolean)).toBe(true);
  });

  it("one user's answers keep send order: never a refusal before a later admission in one burst", async () => {
    const gate = new UserSendLimiter(2, 12, cache.rates);
    const told = await sends([gate], 1, 40);
    expect(told.filter(Boolean)).toHaveLength(12);
    expect(told.slice(0, 12).every(Boolean)).toBe(true);
  });

  it('the shared bucket is asked once per chunk, not per send', async () => {
    const buckets = counted(cache.rates);
    const gate = new UserSendLimiter(400, 1000, buckets);
    let admitted = 0;
    for (let i = 0; i < 300; i++) {
      const r = gate.take(1, Date.now());
      if ((await r) === true) admitted++;
    }
    expect(admitted).toBe(300);
    // Chunks of 100 (a quarter second at 400/s), the next one leased when half is spent.
    expect(buckets.calls).toBeLessThanOrEqual(5);
  });

  it('a flooding user costs one bucket call per refill interval, not one per send', async () => {
    const buckets = counted(cache.rates);
    const gate = new UserSendLimiter(1, 4, buckets);
    expect((await sends([gate], 1, 4)).every(Boolean)).toBe(true);
    const before = buckets.calls;
    const flood = await sends([gate], 1, 1000);
    expect(flood.some(Boolean)).toBe(false);
    expect(buckets.calls - before).toBeLessThanOrEqual(2);
  });

  it('a failing cache admits the sends and reports it', async () => {
    const errors: Error[] = [];
    const down: TokenBuckets = { take: async () => Promise.reject(new CacheUnavailableError('down')) };
    const gate = new UserSendLimiter(1, 4, down, (err) => errors.push(err));
    expect((await sends([gate], 1, 3)).every(Boolean)).toBe(true);
    expect(errors.length).toBeGreaterThan(0);
  });

  it('forgets users with nothing leased or pending; 0 per second turns the limit off', async () => {
    const gate = new UserSendLimiter(1, 4, cache.rates);
    await sends([gate], 1, 1);
    await sends([gate], 2, 10);
    expect(gate.tracked).toBe(2);
    gate.sweep(Date.now() + 5_000);
    expect(gate.tracked).toBe(0);
    const off = new UserSendLimiter(0, 1, cache.rates);
    for (let i = 0; i < 1000; i++) expect(off.take(1, 0)).toBe(true);
    expect(off.tracked).toBe(0);
  });
});
