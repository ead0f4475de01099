export type {
  AttemptPolicy,
  AttemptThrottle,
  Cache,
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
} from './cache.port';
export { CacheUnavailableError, InvalidCacheArgumentError } from './cache.errors';
export { MemoryCache } from './memory.cache';
export { RedisCache, type RedisCacheOptions } from './redis.cache';
