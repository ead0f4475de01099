import type { ReceiptBuffer, ReceiptEntry } from '@mqim/cache';
import type { Logger } from '@mqim/config';
import type { DeliveredReceipt, SessionType, Store } from '@mqim/store';

/**
 * Every interval, writes the receipts that changed since the last flush to the store (batched
 * per shard by the store) and only then clears their dirty marks: a crash between the two
 * re-flushes the same values, which the store's max() upsert makes harmless. `onWritten` (the
 * DELIVERED events) runs between the write and the confirm, so a failed publish keeps the batch
 * dirty and the next flush writes and reports it again: reported at least once, after it is durable.
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
    private readonly onWritten?: (entries: readonly ReceiptEntry[]) => Promise<void>,
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
        await this.write(batch.entries);
        await this.onWritten?.(batch.entries);
        // Confirms the rows written and the rows refused alike: a refused row would be refused
        // again, and keeping it dirty would fail every later flush (issue 10 #5).
        await this.receipts.confirm(batch);
        total += batch.entries.length;
        if (batch.entries.length < this.batchSize) return total;
      }
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'receipt flush failed; will retry');
      return total;
    }
  }

  /**
   * Writes the entries; when the store refuses the batch for a value it cannot take, halves it
   * until the refused rows are alone, writes the rest and drops those (logged). Any other failure
   * (the database is down) is thrown: the whole batch stays dirty for the next flush.
   */
  private async write(entries: readonly ReceiptEntry[]): Promise<void> {
    try {
      await this.store.receipts.recordDelivered(entries.map(toDelivered));
    } catch (err) {
      if ((err as { code?: unknown })?.code !== 'IM_ERR_INVALID_ARGUMENT') throw err;
      if (entries.length === 1) {
        this.logger.warn(
          { err: (err as Error).message, receipt: entries[0] },
          'receipt refused by the store; dropped',
        );
        return;
      }
      const half = Math.ceil(entries.length / 2);
      await this.write(entries.slice(0, half));
      await this.write(entries.slice(half));
    }
  }
}

function toDelivered(e: ReceiptEntry): DeliveredReceipt {
  return {
    ownerUserId: e.userId,
    sessionType: e.sessionType as SessionType,
    sessionId: e.sessionId,
    msgId: e.serverMsgId,
    atMs: e.at,
  };
}
