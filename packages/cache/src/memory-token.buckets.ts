import { checkTake } from './cache.args';
import type { RatePolicy, TokenBuckets } from './cache.port';

interface Bucket {
  tokens: number;
  at: number;
  fullAt: number;
}

// Buckets that are full again carry no information; a sweep every this many takes drops them, so
// keys of users who stopped sending do not accumulate.
const SWEEP_EVERY = 1024;

/** In-process `TokenBuckets`: one map, the same arithmetic as the Redis script. */
export class MemoryTokenBuckets implements TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();
  private sinceSweep = 0;

  constructor(
    private readonly guard: () => void,
    private readonly now: () => number = Date.now,
  ) {}

  async take(key: string, want: number, policy: RatePolicy): Promise<number> {
    this.guard();
    checkTake(key, want, policy);
    const now = this.now();
    const b = this.buckets.get(key);
    let tokens = policy.burst;
    if (b && b.fullAt > now)
      tokens = Math.min(policy.burst, b.tokens + ((now - b.at) * policy.perSecond) / 1000);
    const got = Math.max(0, Math.min(want, Math.floor(tokens)));
    tokens -= got;
    const fullAt = now + Math.ceil(((policy.burst - tokens) * 1000) / policy.perSecond);
    this.buckets.set(key, { tokens, at: now, fullAt });
    if (++this.sinceSweep >= SWEEP_EVERY) this.sweep(now);
    return got;
  }

  get size(): number {
    return this.buckets.size;
  }

  clear(): void {
    this.buckets.clear();
  }

  private sweep(now: number): void {
    this.sinceSweep = 0;
    for (const [key, b] of this.buckets) if (b.fullAt <= now) this.buckets.delete(key);
  }
}
