import { toCacheError } from './redis.client';
import type Redis from 'ioredis';
import type { Cache } from './cache.port';
import { createRedisClient } from './redis.client';
import { RedisKeys } from './redis.keys';
import { RedisPresenceRegistry } from './redis-presence.registry';
import { RedisReceiptBuffer } from './redis-receipt.buffer';
import { RedisRouteTable } from './redis-route.table';
import { RedisSequenceCounter } from './redis-sequence.counter';
import { RedisAttemptThrottle } from './redis-attempt.throttle';
import { RedisTokenBuckets } from './redis-token.buckets';
import { RedisCallRegistry } from './redis-call.registry';
import { RedisIdempotencyKeys } from './redis-idempotency.keys';

const DAY_MS = 24 * 60 * 60 * 1000;

export interface RedisCacheOptions {
  /**
   * `redis://[:password@]host:port[/db]`.
   * @default 'redis://127.0.0.1:6379'
   */
  url?: string;
  /**
   * Prepended to every key, so deployments and test runs can share one Redis.
   * @default 'mqim:'
   */
  keyPrefix?: string;
  /**
   * How long to wait for a TCP connection before counting an attempt as failed.
   * @default 2000
   */
  connectTimeoutMs?: number;
  /**
   * A command with no reply after this long fails with `CacheUnavailableError` (a hung Redis).
   * @default 2000
   */
  commandTimeoutMs?: number;
  /**
   * Reconnection attempts a command issued while disconnected waits for before failing with
   * `CacheUnavailableError`.
   * @default 2
   */
  maxRetriesPerRequest?: number;
  /**
   * Idle sequence counters expire after this long (0: never). Safe at any value, since an absent
   * counter is re-seeded from the store; it only bounds memory held for dead conversations.
   * @default 604800000 (7 days)
   */
  sequenceTtlMs?: number;
  /**
   * A user's receipts expire this long after their last update (0: never). Dirty entries waiting
   * for a flush are kept regardless.
   * @default 604800000 (7 days)
   */
  receiptTtlMs?: number;
  /**
   * Connection-level errors (each failed reconnection). Commands report their own failures as
   * `CacheUnavailableError`; this is for logs and metrics.
   * @default ignore
   */
  onError?: (err: Error) => void;
}

/** The clustered `Cache`: routes, counters and receipts in Redis 7 (layout: docs/cache.md). */
export class RedisCache implements Cache {
  readonly routes: RedisRouteTable;
  readonly sequences: RedisSequenceCounter;
  readonly receipts: RedisReceiptBuffer;
  readonly attempts: RedisAttemptThrottle;
  readonly presence: RedisPresenceRegistry;
  readonly rates: RedisTokenBuckets;
  readonly calls: RedisCallRegistry;
  readonly idempotency: RedisIdempotencyKeys;
  readonly keyPrefix: string;
  private readonly redis: Redis;

  constructor(options: RedisCacheOptions = {}) {
    this.keyPrefix = options.keyPrefix ?? 'mqim:';
    this.redis = createRedisClient({
      url: options.url ?? 'redis://127.0.0.1:6379',
      connectTimeoutMs: options.connectTimeoutMs ?? 2000,
      commandTimeoutMs: options.commandTimeoutMs ?? 2000,
      maxRetriesPerRequest: options.maxRetriesPerRequest ?? 2,
      onError: options.onError ?? (() => undefined),
    });
    const keys = new RedisKeys(this.keyPrefix);
    this.routes = new RedisRouteTable(this.redis, keys);
    this.sequences = new RedisSequenceCounter(this.redis, keys, options.sequenceTtlMs ?? 7 * DAY_MS);
    this.receipts = new RedisReceiptBuffer(this.redis, keys, options.receiptTtlMs ?? 7 * DAY_MS);
    this.attempts = new RedisAttemptThrottle(this.redis, keys);
    this.presence = new RedisPresenceRegistry(this.redis, keys);
    this.rates = new RedisTokenBuckets(this.redis, keys);
    this.calls = new RedisCallRegistry(this.redis, keys);
    this.idempotency = new RedisIdempotencyKeys(this.redis, keys);
  }

  /**
   * Round trip to Redis; roles call it at start-up so a wrong URL fails fast with a clear error
   * instead of surfacing later as timeouts.
   * @throws CacheUnavailableError
   */
  async ping(): Promise<void> {
    try {
      await this.redis.ping();
    } catch (err) {
      throw toCacheError(err);
    }
  }

  async close(): Promise<void> {
    if (this.redis.status === 'ready') {
      try {
        // Auto-pipelined commands leave at the end of the turn, QUIT at once: a PING first puts
        // everything queued before it on the wire (replies come in order). QUIT then lets replies
        // already in flight arrive before the connection closes.
        await this.redis.ping();
        await this.redis.quit();
        return;
      } catch {
        // Redis stopped answering meanwhile: fall through and drop the connection.
      }
    }
    // Not connected (down, or still retrying): also cancels the pending reconnection timer.
    this.redis.disconnect();
  }
}
