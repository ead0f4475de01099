import { runCacheContract } from './testing';
import { MemoryCache } from './memory.cache';

runCacheContract('MemoryCache', async () => {
  const cache = new MemoryCache();
  return {
    cache,
    wipe: async () => cache.clear(),
    dispose: () => cache.close(),
  };
});
