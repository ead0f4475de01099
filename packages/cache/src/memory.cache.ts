import { CacheUnavailableError } from './cache.errors';
import type { Cache } from './cache.port';
import { MemoryCallRegistry } from './memory-call.registry';
import { MemoryAttemptThrottle } from './memory-attempt.throttle';
import { MemoryPresenceRegistry } from './memory-presence.registry';
import { MemoryReceiptBuffer } from './memory-receipt.buffer';
import { MemoryRouteTable } from './memory-route.table';
import { MemorySequenceCounter } from './memory-sequence.counter';
import { MemoryTokenBuckets } from './memory-token.buckets';
import { MemoryIdempotencyKeys } from './memory-idempotency.keys';

/**
 * The embedded `Cache` of the standalone server: plain maps, lazy expiry, no I/O. Same contract
 * as `RedisCache`, except that nothing outlives the process — which the contract allows, since
 * every part of the cache is rebuildable (routes by the gates, counters from the store).
 */
export class MemoryCache implements Cache {
  readonly routes: MemoryRouteTable;
  readonly sequences: MemorySequenceCounter;
  readonly receipts: MemoryReceiptBuffer;
  readonly attempts: MemoryAttemptThrottle;
  readonly presence: MemoryPresenceRegistry;
  readonly rates: MemoryTokenBuckets;
  readonly calls: MemoryCallRegistry;
  readonly idempotency: MemoryIdempotencyKeys;
  private closed = false;

  /**
   * @param options.maxReceipts sessions whose latest receipt is kept once flushed; @default 200000
   * @param options.maxIdempotencyKeys idempotency keys kept (oldest forgotten first); @default 100000
   */
  constructor(options: { maxReceipts?: number; maxIdempotencyKeys?: number } = {}) {
    const guard = (): void => {
      if (this.closed) throw new CacheUnavailableError('memory cache is closed');
    };
    this.routes = new MemoryRouteTable(guard);
    this.sequences = new MemorySequenceCounter(guard);
    this.receipts = new MemoryReceiptBuffer(guard, options.maxReceipts);
    this.attempts = new MemoryAttemptThrottle(guard);
    this.presence = new MemoryPresenceRegistry(guard);
    this.rates = new MemoryTokenBuckets(guard);
    this.calls = new MemoryCallRegistry(guard);
    this.idempotency = new MemoryIdempotencyKeys(guard, Date.now, options.maxIdempotencyKeys);
  }

  /** Forgets everything, as a Redis restart without persistence would. */
  clear(): void {
    this.routes.clear();
    this.sequences.clear();
    this.receipts.clear();
    this.attempts.clear();
    this.presence.clear();
    this.rates.clear();
    this.calls.clear();
    this.idempotency.clear();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.clear();
  }
}
