import type { SaveResult } from '../message.port';
import { StoreUnavailableError } from '../store.errors';
import type { ValidSave } from '../repositories/message.validation';

export interface SaveCoalescerOptions {
  /**
   * Most messages committed by one transaction.
   * @default 512
   */
  readonly maxBatch?: number;
  /**
   * Most timeline rows (sum of owners) per transaction, so one batch of big-group messages does
   * not hold the write lock for long.
   * @default 20000
   */
  readonly maxRows?: number;
}

type Entry = {
  readonly save: ValidSave;
  readonly resolve: (result: SaveResult) => void;
  readonly reject: (error: unknown) => void;
};

/**
 * Group commit: `save()` calls that arrive while the event loop is busy (or while the previous
 * transaction runs) are written by one transaction, so many messages share one commit (and one
 * fsync). Each caller still gets its own result, and only after the commit: a caller's promise
 * never resolves before its message is durable.
 *
 * If a batch transaction fails, its messages are retried one transaction each, so one bad
 * message (say an id conflict) fails only its own caller; `StoreUnavailableError` fails the
 * whole batch at once instead.
 */
export class SaveCoalescer {
  readonly #queue: Entry[] = [];
  readonly #maxBatch: number;
  readonly #maxRows: number;
  #scheduled = false;
  #running: Promise<void> | null = null;

  constructor(
    private readonly writeBatch: (saves: readonly ValidSave[]) => Promise<SaveResult[]>,
    options: SaveCoalescerOptions = {},
  ) {
    this.#maxBatch = options.maxBatch ?? 512;
    this.#maxRows = options.maxRows ?? 20_000;
  }

  submit(save: ValidSave): Promise<SaveResult> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ save, resolve, reject });
      this.#schedule();
    });
  }

  /** Resolves once every submitted save has settled. */
  async drain(): Promise<void> {
    while (this.#running !== null || this.#queue.length > 0 || this.#scheduled) {
      await (this.#running ?? new Promise<void>((r) => setImmediate(r)));
    }
  }

  #schedule(): void {
    if (this.#scheduled || this.#running !== null) return;
    this.#scheduled = true;
    // setImmediate, not a microtask: lets the I/O that is already queued (more requests) run
    // first, so they join this batch.
    setImmediate(() => {
      this.#scheduled = false;
      this.#running = this.#flushAll().finally(() => {
        this.#running = null;
        if (this.#queue.length > 0) this.#schedule();
      });
    });
  }

  async #flushAll(): Promise<void> {
    while (this.#queue.length > 0) await this.#flush(this.#take());
  }

  #take(): Entry[] {
    let rows = 0;
    let n = 0;
    while (n < this.#queue.length && n < this.#maxBatch) {
      const owners = this.#queue[n]!.save.owners.length;
      if (n > 0 && rows + owners > this.#maxRows) break;
      rows += owners;
      n++;
    }
    return this.#queue.splice(0, n);
  }

  async #flush(batch: Entry[]): Promise<void> {
    try {
      const results = await this.writeBatch(batch.map((e) => e.save));
      batch.forEach((e, i) => e.resolve(results[i]!));
      return;
    } catch (err) {
      // Unreachable database: every message would fail the same way, one connect timeout each.
      if (batch.length === 1 || err instanceof StoreUnavailableError) {
        for (const entry of batch) entry.reject(err);
        return;
      }
    }
    for (const entry of batch) {
      try {
        const [result] = await this.writeBatch([entry.save]);
        entry.resolve(result!);
      } catch (err) {
        entry.reject(err);
      }
    }
  }
}
