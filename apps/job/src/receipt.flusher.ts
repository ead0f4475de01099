import type { ReceiptBuffer } from '@mqim/cache';
import type { Logger } from '@mqim/config';
import type { SessionType, Store } from '@mqim/store';

/**
 * Every interval, writes the receipts that changed since the last flush to the store (batched
 * per shard by the store) and only then clears their dirty marks: a crash between the two
 * re-flushes the same values, which the store's max() upsert makes harmless.
 */
export class ReceiptFlusher {
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;

  constructor(
    private readonly receipts: ReceiptBuffer,
    private readonly store: Store,
    private readonly logger: Logger,
    private readonly intervalMs: number,
    private readonly batchSize = 2000,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      if (!this.running) this.running = this.flushAll().finally(() => (this.running = undefined));
    }, this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
    await this.flushAll();
  }

  /** Flushes until nothing is dirty; returns how many entries were written. */
  async flushAll(): Promise<number> {
    let total = 0;
    try {
      for (;;) {
        const batch = await this.receipts.takeDirty(this.batchSize);
        if (!batch.entries.length) return total;
        await this.store.receipts.recordDelivered(
          batch.entries.map((e) => ({
            ownerUserId: e.userId,
            sessionType: e.sessionType as SessionType,
            sessionId: e.sessionId,
            msgId: e.serverMsgId,
            atMs: e.at,
          })),
        );
        await this.receipts.confirm(batch);
        total += batch.entries.length;
        if (batch.entries.length < this.batchSize) return total;
      }
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'receipt flush failed; will retry');
      return total;
    }
  }
}
