import type Redis from 'ioredis';
import { checkIdempotency } from './cache.args';
import type { IdempotencyClaim, IdempotencyKeys } from './cache.port';
import { guarded } from './redis.client';
import type { RedisKeys } from './redis.keys';

/**
 * `IdempotencyKeys` on Redis: one string per key, `p|<fingerprint>` while pending and
 * `d|<fingerprint>|<answer>` once answered, with a PX expiry; claims with SET NX, completes and
 * releases with scripts that act only on the caller's own pending value.
 */
export class RedisIdempotencyKeys implements IdempotencyKeys {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  async claim(key: string, fingerprint: string, pendingTtlMs: number): Promise<IdempotencyClaim> {
    checkIdempotency(key, fingerprint, pendingTtlMs);
    const value = await guarded(() =>
      this.redis.mqimIdemClaim(this.keys.idempotency(key), `p|${fingerprint}`, String(pendingTtlMs)),
    );
    if (value === null) return { state: 'claimed' };
    const fp = value.slice(2, value.indexOf('|', 2) < 0 ? undefined : value.indexOf('|', 2));
    if (value.startsWith('p|')) return { state: 'pending', fingerprint: fp };
    return { state: 'done', fingerprint: fp, response: value.slice(3 + fp.length) };
  }

  async complete(key: string, fingerprint: string, response: string, ttlMs: number): Promise<void> {
    checkIdempotency(key, fingerprint, ttlMs);
    await guarded(() =>
      this.redis.mqimIdemSwap(
        this.keys.idempotency(key),
        `p|${fingerprint}`,
        `d|${fingerprint}|${response}`,
        String(ttlMs),
      ),
    );
  }

  async release(key: string, fingerprint: string): Promise<void> {
    checkIdempotency(key, fingerprint, 1);
    await guarded(() => this.redis.mqimIdemSwap(this.keys.idempotency(key), `p|${fingerprint}`, '', '0'));
  }
}
