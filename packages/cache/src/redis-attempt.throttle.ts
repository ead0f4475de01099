import type Redis from 'ioredis';
import { checkAttemptKey, checkAttemptPolicy } from './cache.args';
import type { AttemptPolicy, AttemptThrottle } from './cache.port';
import { execPipeline, guarded } from './redis.client';
import type { RedisKeys } from './redis.keys';

/**
 * `AttemptThrottle` on Redis: one hash per key (`n` failures, `until` unix ms), counted and
 * expired by one script so concurrent failures from many processes each count once.
 */
export class RedisAttemptThrottle implements AttemptThrottle {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  async blockedFor(keys: readonly string[]): Promise<number> {
    keys.forEach(checkAttemptKey);
    if (keys.length === 0) return 0;
    const pipeline = this.redis.pipeline();
    for (const key of keys) pipeline.hget(this.keys.attempts(key), 'until');
    const untils = await execPipeline(pipeline);
    const now = Date.now();
    let wait = 0;
    for (const until of untils) if (typeof until === 'string') wait = Math.max(wait, Number(until) - now);
    return wait;
  }

  async fail(key: string, policy: AttemptPolicy): Promise<number> {
    checkAttemptKey(key);
    checkAttemptPolicy(policy);
    const block = await guarded(() =>
      this.redis.mqimAttemptFail(
        this.keys.attempts(key),
        String(Date.now()),
        String(policy.freeFailures),
        String(policy.baseBlockMs),
        String(policy.maxBlockMs),
        String(policy.windowMs),
      ),
    );
    return Number(block);
  }

  async reset(key: string): Promise<void> {
    checkAttemptKey(key);
    await guarded(() => this.redis.del(this.keys.attempts(key)));
  }
}
