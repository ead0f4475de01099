import Redis, { type ChainableCommander } from 'ioredis';
import { CacheUnavailableError, InvalidCacheArgumentError } from './cache.errors';
import { defineScripts } from './redis.scripts';

export interface RedisClientOptions {
  url: string;
  connectTimeoutMs: number;
  commandTimeoutMs: number;
  maxRetriesPerRequest: number;
  onError: (err: Error) => void;
}

/**
 * An ioredis client tuned to fail fast instead of queueing forever: commands issued while
 * disconnected wait for at most `maxRetriesPerRequest` reconnection attempts, and a command on a
 * connection that stopped answering gives up after `commandTimeoutMs`. Reconnection itself goes
 * on in the background, so the cache heals when Redis is back.
 */
export function createRedisClient(options: RedisClientOptions): Redis {
  const redis = new Redis(options.url, {
    connectTimeout: options.connectTimeoutMs,
    commandTimeout: options.commandTimeoutMs,
    maxRetriesPerRequest: options.maxRetriesPerRequest,
    enableOfflineQueue: true,
    retryStrategy: (times) => Math.min(times * 100, 2000),
    // close() only ever disconnects a connection that is broken or hung: don't wait ioredis'
    // default 2 s for it to close by itself (its timer outlives a socket that is already gone).
    disconnectTimeout: 200,
    // Commands issued in one tick leave in one socket write: a batch of upstream requests asks for
    // dozens of sequence ids at once, and one write() each was a visible share of logic's CPU
    // (docs/performance.md, round 10). Order: single commands of one turn leave together at the end
    // of the turn, after any explicit pipeline()/multi() of the same turn; callers that need one
    // command before another await it (none in this package relies on issue order alone).
    enableAutoPipelining: true,
  });
  // Without a listener ioredis prints every reconnection failure; callers see them as
  // CacheUnavailableError on their own commands anyway.
  redis.on('error', options.onError);
  defineScripts(redis);
  return redis;
}

// Replies that mean "not now" rather than "your command is wrong".
const UNAVAILABLE_REPLIES =
  /^(LOADING|BUSY|READONLY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN|NOREPLICAS|MISCONF|OOM)\b/;

/** Maps an ioredis failure to `CacheUnavailableError`, except replies that reveal a bug. */
export function toCacheError(err: unknown): Error {
  if (err instanceof CacheUnavailableError || err instanceof InvalidCacheArgumentError) return err;
  const error = err instanceof Error ? err : new Error(String(err));
  if (error.name === 'ReplyError' && !UNAVAILABLE_REPLIES.test(error.message)) return error;
  return new CacheUnavailableError(`redis unavailable: ${error.message}`, { cause: error });
}

export async function guarded<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    throw toCacheError(err);
  }
}

/** Runs a pipeline (one round trip) and returns its replies, throwing the first failure. */
export async function execPipeline(pipeline: ChainableCommander): Promise<unknown[]> {
  const results = await guarded(() => pipeline.exec());
  if (results === null) throw new CacheUnavailableError('redis unavailable: pipeline discarded');
  return results.map(([err, value]) => {
    if (err) throw toCacheError(err);
    return value;
  });
}
