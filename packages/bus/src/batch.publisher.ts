import type { MessageBus, OutgoingMessage } from './message-bus.port';

/** Where a batch goes: everything added under one key travels in the same MQ messages. */
export type BatchTarget = Pick<OutgoingMessage, 'topic' | 'messageGroup' | 'tag'>;

export interface BatchPublisherOptions<T> {
  /** Turns the items gathered for one target into one message body. */
  encode(items: readonly T[]): Uint8Array;
  /** An upper estimate of one item's encoded size, for `maxBytes`. */
  sizeOf(item: T): number;
  /** How long to gather items for one target. 0 = until the current macrotask ends. */
  windowMs: number;
  /** Publish at once when this many items wait for one target. @default 256 */
  maxItems?: number;
  /**
   * Publish at once when the waiting items reach about this many bytes, well under the broker's
   * message size limit (RocketMQ: 4 MiB by default). @default 1 MiB
   */
  maxBytes?: number;
  /**
   * For delay topics: each batch is published with `deliverAt` = its publish time + this. The
   * window adds at most `windowMs` to the delay of the batch's first item.
   */
  deliverAfterMs?: number;
  /** Called after each stored batch with its target and publish time in seconds (metrics). */
  onPublished?(target: BatchTarget, seconds: number, items: number): void;
}

interface Pending<T> {
  target: BatchTarget;
  items: T[];
  bytes: number;
  waiters: { resolve(): void; reject(err: unknown): void }[];
  timer?: NodeJS.Timeout;
  immediate?: NodeJS.Immediate;
}

/**
 * Packs small items bound for one topic + message group, over a short window, into one MQ
 * message: the hop costs one broker round trip per batch instead of one per item (RocketMQ's
 * Node client manages roughly a thousand sends a second on this class of machine, so per-item
 * publishes cap the whole cluster). `add()` resolves only when the batch holding the items is
 * stored by the broker and rejects if that publish fails, so callers ack their own input only
 * after their output is durable (at-least-once end to end). Order of `add()` calls for one target
 * is kept within and across batches as far as the bus keeps publish order.
 */
export class BatchPublisher<T> {
  private readonly pending = new Map<string, Pending<T>>();
  private readonly maxItems: number;
  private readonly maxBytes: number;

  constructor(
    private readonly bus: MessageBus,
    private readonly options: BatchPublisherOptions<T>,
  ) {
    this.maxItems = options.maxItems ?? 256;
    this.maxBytes = options.maxBytes ?? 1 << 20;
  }

  add(target: BatchTarget, items: readonly T[]): Promise<void> {
    const key = `${target.topic}\u0000${target.messageGroup ?? ''}\u0000${target.tag ?? ''}`;
    let bytes = 0;
    for (const item of items) bytes += this.options.sizeOf(item);
    let p = this.pending.get(key);
    // Whatever waits already goes out first rather than growing past the size bound.
    if (p && p.bytes + bytes > this.maxBytes) {
      this.flush(key);
      p = undefined;
    }
    if (!p) {
      p = { target, items: [], bytes: 0, waiters: [] };
      this.pending.set(key, p);
    }
    for (const item of items) p.items.push(item);
    p.bytes += bytes;
    const batch = p;
    const promise = new Promise<void>((resolve, reject) => batch.waiters.push({ resolve, reject }));
    if (batch.items.length >= this.maxItems || batch.bytes >= this.maxBytes) this.flush(key);
    else if (!batch.timer && !batch.immediate) {
      if (this.options.windowMs > 0) batch.timer = setTimeout(() => this.flush(key), this.options.windowMs);
      else batch.immediate = setImmediate(() => this.flush(key));
    }
    return promise;
  }

  /** Publishes everything waiting now (e.g. before shutdown); resolves when all is stored. */
  async flushAll(): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const p of this.pending.values()) {
      waits.push(new Promise<void>((resolve) => p.waiters.push({ resolve, reject: () => resolve() })));
    }
    for (const key of [...this.pending.keys()]) this.flush(key);
    await Promise.all(waits);
  }

  private flush(key: string): void {
    const p = this.pending.get(key);
    if (!p) return;
    this.pending.delete(key);
    if (p.timer) clearTimeout(p.timer);
    if (p.immediate) clearImmediate(p.immediate);
    let body: Uint8Array;
    try {
      body = this.options.encode(p.items);
    } catch (err) {
      for (const w of p.waiters) w.reject(err);
      return;
    }
    const started = performance.now();
    const deliverAfter = this.options.deliverAfterMs;
    const message =
      deliverAfter === undefined
        ? { ...p.target, body }
        : { ...p.target, body, deliverAt: Date.now() + deliverAfter };
    this.bus.publish(message).then(
      () => {
        this.options.onPublished?.(p.target, (performance.now() - started) / 1000, p.items.length);
        for (const w of p.waiters) w.resolve();
      },
      (err: unknown) => {
        for (const w of p.waiters) w.reject(err);
      },
    );
  }
}
