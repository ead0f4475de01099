import type Redis from 'ioredis';
import { checkTake } from './cache.args';
import type { RatePolicy, TokenBuckets } from './cache.port';
import { guarded } from './redis.client';
import type { RedisKeys } from './redis.keys';

/**
 * `TokenBuckets` on Redis: one hash per key (`n` tokens, `at` ms), refilled and taken from by one
 * script on the server's clock, expiring when the bucket would be full again.
 */
export class RedisTokenBuckets implements TokenBuckets {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  async take(key: string, want: number, policy: RatePolicy): Promise<number> {
    checkTake(key, want, policy);
    const got = await guarded(() =>
      this.redis.mqimBucketTake(
        this.keys.bucket(key),
        String(want),
        String(policy.perSecond),
        String(policy.burst),
      ),
    );
    return Number(got);
  }
}
