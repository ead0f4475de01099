export type {
  AttemptPolicy,
  AttemptThrottle,
  CallRecord,
  CallRegistry,
  Cache,
  IdempotencyClaim,
  IdempotencyKeys,
  RatePolicy,
  DirtyBatch,
  InstanceInfo,
  LiveInstance,
  OnlinePage,
  PresenceRegistry,
  ReceiptBuffer,
  ReceiptEntry,
  ReceiptKey,
  Route,
  RouteTable,
  SequenceCounter,
  SequenceRange,
  SequenceSeed,
  TokenBuckets,
} from './cache.port';
export { CacheUnavailableError, InvalidCacheArgumentError } from './cache.errors';
export { MemoryCache } from './memory.cache';
export { RedisCache, type RedisCacheOptions } from './redis.cache';
