import type Redis from 'ioredis';

/**
 * Deletes every key starting with `prefix` (SCAN + UNLINK, never FLUSHDB: other suites share the
 * server). Returns how many were deleted.
 */
export async function deleteRedisKeys(redis: Redis, prefix: string): Promise<number> {
  const pattern = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) deleted += await redis.unlink(...keys);
  } while (cursor !== '0');
  return deleted;
}
