import type Redis from 'ioredis';
import { checkPositive, checkSeed } from './cache.args';
import { InvalidCacheArgumentError } from './cache.errors';
import type { SequenceCounter, SequenceRange, SequenceSeed } from './cache.port';
import { guarded } from './redis.client';
import type { RedisKeys } from './redis.keys';

/**
 * `SequenceCounter` on Redis: one string per key. The hot path is one script call (EXISTS + INCRBY);
 * only an absent counter costs a second round trip, after `seed()` (see redis.scripts.ts).
 */
export class RedisSequenceCounter implements SequenceCounter {
  private readonly ttlArg: string;

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    ttlMs: number,
  ) {
    this.ttlArg = String(ttlMs);
  }

  async next(key: string, seed: SequenceSeed): Promise<number> {
    return (await this.nextBatch(key, 1, seed)).last;
  }

  async nextBatch(key: string, count: number, seed: SequenceSeed): Promise<SequenceRange> {
    checkPositive('count', count);
    const redisKey = this.keys.sequence(key);
    const countArg = String(count);
    let last = await guarded(() => this.redis.mqimSeqNext(redisKey, countArg, this.ttlArg));
    if (last === null) {
      const seeded = await seed();
      checkSeed(key, seeded);
      last = await guarded(() => this.redis.mqimSeqSeed(redisKey, String(seeded), countArg, this.ttlArg));
    }
    if (!Number.isSafeInteger(last)) {
      throw new InvalidCacheArgumentError(`sequence ${key} left the safe integer range (${last})`);
    }
    return { first: last - count + 1, last };
  }

  async release(key: string, id: number): Promise<boolean> {
    checkPositive('id', id);
    const released = await guarded(() => this.redis.mqimSeqRelease(this.keys.sequence(key), String(id)));
    return released === 1;
  }
}
