import { blockAfter, checkAttemptKey, checkAttemptPolicy } from './cache.args';
import type { AttemptPolicy, AttemptThrottle } from './cache.port';

interface Entry {
  failures: number;
  blockedUntil: number;
  expiresAt: number;
}

// Expired entries are dropped lazily on access and by a sweep every this many failures, so keys
// an attacker makes up (one per guessed name or address) cannot accumulate.
const SWEEP_EVERY = 1024;

/** In-process `AttemptThrottle`: one map, lazy expiry, same arithmetic as the Redis script. */
export class MemoryAttemptThrottle implements AttemptThrottle {
  private readonly entries = new Map<string, Entry>();
  private sinceSweep = 0;

  constructor(
    private readonly guard: () => void,
    private readonly now: () => number = Date.now,
  ) {}

  async blockedFor(keys: readonly string[]): Promise<number> {
    this.guard();
    keys.forEach(checkAttemptKey);
    const now = this.now();
    let wait = 0;
    for (const key of keys) {
      const e = this.live(key, now);
      if (e) wait = Math.max(wait, e.blockedUntil - now);
    }
    return wait;
  }

  async fail(key: string, policy: AttemptPolicy): Promise<number> {
    this.guard();
    checkAttemptKey(key);
    checkAttemptPolicy(policy);
    const now = this.now();
    const e = this.live(key, now) ?? { failures: 0, blockedUntil: 0, expiresAt: 0 };
    e.failures += 1;
    const block = blockAfter(e.failures, policy);
    if (block > 0) e.blockedUntil = now + block;
    e.expiresAt = now + Math.max(policy.windowMs, block);
    this.entries.set(key, e);
    if (++this.sinceSweep >= SWEEP_EVERY) this.sweep(now);
    return block;
  }

  async reset(key: string): Promise<void> {
    this.guard();
    checkAttemptKey(key);
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }

  private live(key: string, now: number): Entry | undefined {
    const e = this.entries.get(key);
    if (e && e.expiresAt <= now) {
      this.entries.delete(key);
      return undefined;
    }
    return e;
  }

  private sweep(now: number): void {
    this.sinceSweep = 0;
    for (const [key, e] of this.entries) if (e.expiresAt <= now) this.entries.delete(key);
  }
}
