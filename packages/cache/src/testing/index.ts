export { runCacheContract, type CacheFactory, type CacheFixture } from './cache.contract';
export { deleteRedisKeys } from './redis-keys';
