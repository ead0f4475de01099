import { checkIdempotency } from './cache.args';
import type { IdempotencyClaim, IdempotencyKeys } from './cache.port';

interface Entry {
  fingerprint: string;
  /** Undefined while pending. */
  response?: string;
  expiresAt: number;
}

// Expired keys are dropped by a sweep every this many claims (lazy expiry otherwise).
const SWEEP_EVERY = 1024;

/**
 * In-process `IdempotencyKeys` (the standalone): one map with lazy expiry, bounded by
 * `maxEntries`: beyond it the oldest claims are forgotten (a
 * forgotten key only lets a retry run again, as after a restart).
 */
export class MemoryIdempotencyKeys implements IdempotencyKeys {
  private readonly entries = new Map<string, Entry>();
  private sinceSweep = 0;

  constructor(
    private readonly guard: () => void,
    private readonly now: () => number = Date.now,
    private readonly maxEntries = 100_000,
  ) {}

  async claim(key: string, fingerprint: string, pendingTtlMs: number): Promise<IdempotencyClaim> {
    this.guard();
    checkIdempotency(key, fingerprint, pendingTtlMs);
    const now = this.now();
    if (++this.sinceSweep >= SWEEP_EVERY) this.sweep(now);
    const e = this.live(key, now);
    if (!e) {
      this.entries.set(key, { fingerprint, expiresAt: now + pendingTtlMs });
      if (this.entries.size > this.maxEntries) this.evict();
      return { state: 'claimed' };
    }
    return e.response === undefined
      ? { state: 'pending', fingerprint: e.fingerprint }
      : { state: 'done', fingerprint: e.fingerprint, response: e.response };
  }

  async complete(key: string, fingerprint: string, response: string, ttlMs: number): Promise<void> {
    this.guard();
    checkIdempotency(key, fingerprint, ttlMs);
    const now = this.now();
    const e = this.live(key, now);
    if (e && e.response === undefined && e.fingerprint === fingerprint)
      this.entries.set(key, { fingerprint, response, expiresAt: now + ttlMs });
  }

  async release(key: string, fingerprint: string): Promise<void> {
    this.guard();
    checkIdempotency(key, fingerprint, 1);
    const e = this.live(key, this.now());
    if (e && e.response === undefined && e.fingerprint === fingerprint) this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
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

  /** Over the cap: forget the oldest claims (map order) until within it; O(1) per claim. */
  private evict(): void {
    for (const key of this.entries.keys()) {
      if (this.entries.size <= this.maxEntries) return;
      this.entries.delete(key);
    }
  }

  private sweep(now: number): void {
    this.sinceSweep = 0;
    for (const [key, e] of this.entries) if (e.expiresAt <= now) this.entries.delete(key);
  }
}
