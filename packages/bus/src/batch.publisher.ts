import type { MqimMetrics } from '@mqim/metrics';
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
  /**
   * Most publishes in flight across *all* targets. Each target already has at most one; with many
   * targets (lanes) that alone would let the call rate grow with the message rate again. While
   * the cap is reached, targets with something to send queue in arrival order, and what they
   * gather while waiting travels in their next batch. @default Infinity
   */
  maxInFlight?: number;
  /**
   * Most items accepted and not yet stored, across all targets. Past it, `add()` rejects at once
   * with `PublisherBusyError`: under overload the caller answers "busy, retry later" instead of
   * queueing without bound (a backlog that only grows turns every sender's latency into seconds).
   * @default Infinity
   */
  maxPending?: number;
  /**
   * Pacing: a target (and its in-flight slot) publishes at most once per this many ms. Under
   * load the broker round trip alone can be short enough that batches stay at one or two items
   * and the call rate follows the message rate; pacing caps calls at `maxInFlight` (or one per
   * target) per interval. With nothing sent in the last interval an item still leaves at once,
   * so light load pays no latency for it. @default 0
   */
  minIntervalMs?: number;
  /**
   * For producers that publish several items of one ordered stream (e.g. a conversation) without
   * waiting for each: the stream an item belongs to. After a publish to an ordered target (one
   * with a message group) failed, `add()`s of items of the streams it carried reject at once until
   * `resume(streams)` or `holdMs` passed, so nothing stored overtakes the failed item, which the
   * producer sends again from its own retry. Other streams of the target go on. @default none
   * (nothing is held)
   */
  streamOf?(item: T): string;
  /**
   * Longest hold of a stream (`streamOf`) nobody resumes: a safety net for a stream whose
   * producer never retries (its item was published under another stream's key). @default 60000
   */
  holdMs?: number;
}

/** `add()` refused: `maxPending` items already wait for the broker. */
export class PublisherBusyError extends Error {
  readonly code = 'IM_ERR_BUSY';
  constructor(readonly pending: number) {
    super(`${pending} items are waiting for the broker; retry later`);
    this.name = 'PublisherBusyError';
  }
}

/**
 * `onPublished` that records each stored batch in the publish metrics, labelled with the target's
 * topic or with `label` (e.g. `gate` for the per-gate topics, which would each be a label value).
 */
export function publishMetrics(
  metrics: MqimMetrics,
  label?: string,
): NonNullable<BatchPublisherOptions<unknown>['onPublished']> {
  return (target, seconds) => {
    const topic = label ?? target.topic;
    metrics.published.inc({ topic });
    metrics.publishSeconds.observe({ topic }, seconds);
  };
}

interface Waiter {
  resolve(): void;
  reject(err: unknown): void;
}

interface Batch<T> {
  items: T[];
  bytes: number;
  waiters: Waiter[];
}

/** Everything bound for one target: the batch gathering, closed ones waiting, the one in flight. */
interface Lane<T> {
  target: BatchTarget;
  open?: Batch<T>;
  ready: Batch<T>[];
  inflight?: Batch<T>;
  timer?: NodeJS.Timeout;
  immediate?: NodeJS.Immediate;
  /** Queued for one of the `maxInFlight` slots. */
  queued: boolean;
}

/**
 * Packs small items bound for one topic + message group into one MQ message: the hop costs one
 * broker round trip per batch instead of one per item (RocketMQ's Node client spends about a
 * millisecond of CPU per call, so per-item publishes cap the whole cluster).
 *
 * Batches are clocked by the broker: a target has at most one publish in flight, and the items
 * added meanwhile travel together as soon as it is stored. Under light load an item waits only
 * `windowMs`; under heavy load batches grow with the publish round trip by themselves, so the
 * number of broker calls stops growing with the message rate. One publish in flight also keeps
 * the order of `add()` calls for a target across batches (FIFO topics).
 *
 * `add()` resolves only when the batch holding the items is stored by the broker and rejects if
 * that publish fails, so callers ack their own input only after their output is durable
 * (at-least-once end to end).
 */
export class BatchPublisher<T> {
  private readonly lanes = new Map<string, Lane<T>>();
  private readonly maxItems: number;
  private readonly maxBytes: number;
  private readonly maxInFlight: number;
  private readonly maxPending: number;
  private readonly minIntervalMs: number;
  /** Lanes with a batch to send, waiting for an in-flight slot, oldest first. */
  private readonly slotQueue: { key: string; lane: Lane<T> }[] = [];
  private inflight = 0;
  private pendingItems = 0;
  /** Streams held after a failed publish (`streamOf`), with the failure and when it happened. */
  private readonly held = new Map<string, { err: unknown; at: number }>();
  /** The streams each publish failure held (`streamOf`), so whoever saw the failure can resume them. */
  private readonly heldBy = new WeakMap<object, string[]>();

  constructor(
    private readonly bus: MessageBus,
    private readonly options: BatchPublisherOptions<T>,
  ) {
    this.maxItems = options.maxItems ?? 256;
    this.maxBytes = options.maxBytes ?? 1 << 20;
    this.maxInFlight = options.maxInFlight ?? Infinity;
    this.maxPending = options.maxPending ?? Infinity;
    this.minIntervalMs = options.minIntervalMs ?? 0;
  }

  /** Items accepted and not yet stored (or failed). */
  get pending(): number {
    return this.pendingItems;
  }

  /** Publishes in flight now. */
  get inFlight(): number {
    return this.inflight;
  }

  add(target: BatchTarget, items: readonly T[]): Promise<void> {
    if (this.pendingItems + items.length > this.maxPending && this.pendingItems > 0)
      return Promise.reject(new PublisherBusyError(this.pendingItems));
    const key = keyOf(target);
    if (this.held.size > 0 && this.options.streamOf) {
      for (const item of items) {
        const stream = this.options.streamOf(item);
        const hold = this.held.get(stream);
        if (hold === undefined) continue;
        if (performance.now() - hold.at < (this.options.holdMs ?? 60_000)) return Promise.reject(hold.err);
        this.held.delete(stream);
      }
    }
    let bytes = 0;
    for (const item of items) bytes += this.options.sizeOf(item);
    this.pendingItems += items.length;
    let lane = this.lanes.get(key);
    if (!lane) this.lanes.set(key, (lane = { target, ready: [], queued: false }));
    // Whatever gathers already goes first rather than growing past the size bound.
    if (lane.open && lane.open.bytes + bytes > this.maxBytes) this.close(lane);
    const batch = (lane.open ??= { items: [], bytes: 0, waiters: [] });
    for (const item of items) batch.items.push(item);
    batch.bytes += bytes;
    const promise = new Promise<void>((resolve, reject) => batch.waiters.push({ resolve, reject }));
    if (batch.items.length >= this.maxItems || batch.bytes >= this.maxBytes) this.close(lane);
    // Sends a closed batch now unless a publish is in flight (its end sends the next one).
    if (lane.ready.length > 0) this.pump(key, lane);
    if (lane.open && !lane.inflight && !lane.queued && !lane.timer && !lane.immediate) {
      // Nothing in flight: the gathering batch waits the window.
      const fire = () => {
        lane.timer = undefined;
        lane.immediate = undefined;
        if (lane.inflight || lane.queued) return;
        this.close(lane);
        this.pump(key, lane);
      };
      if (this.options.windowMs > 0) lane.timer = setTimeout(fire, this.options.windowMs);
      else lane.immediate = setImmediate(fire);
    }
    return promise;
  }

  /** The streams a publish failure (as `add()` rejected with it) held. */
  streamsHeldBy(err: unknown): readonly string[] {
    return typeof err === 'object' && err !== null ? (this.heldBy.get(err) ?? []) : [];
  }

  /** Takes items of these held streams again (their producer has seen the failure and retries). */
  resume(streams: Iterable<string>): void {
    for (const stream of streams) this.held.delete(stream);
  }

  /** Publishes everything waiting now (e.g. before shutdown); resolves when all is stored. */
  async flushAll(): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const [key, lane] of [...this.lanes]) {
      for (const batch of [lane.inflight, ...lane.ready, lane.open]) {
        if (batch)
          waits.push(
            new Promise<void>((resolve) => batch.waiters.push({ resolve, reject: () => resolve() })),
          );
      }
      this.close(lane);
      this.pump(key, lane);
    }
    await Promise.all(waits);
  }

  /** Rejects every batch of the lane that is not in flight (after its predecessor failed). */
  private failQueued(lane: Lane<T>, err: unknown): void {
    this.close(lane);
    for (const batch of lane.ready.splice(0)) {
      this.pendingItems -= batch.items.length;
      for (const w of batch.waiters) w.reject(err);
    }
  }

  /** Ends the gathering batch: it joins the queue of batches to publish. */
  private close(lane: Lane<T>): void {
    if (lane.timer) clearTimeout(lane.timer);
    if (lane.immediate) clearImmediate(lane.immediate);
    lane.timer = undefined;
    lane.immediate = undefined;
    if (lane.open) lane.ready.push(lane.open);
    lane.open = undefined;
  }

  /**
   * Sends the lane's next closed batch unless it has one in flight; with `maxInFlight` reached it
   * queues for a slot instead.
   */
  private pump(key: string, lane: Lane<T>): void {
    if (lane.inflight || lane.queued) return;
    if (lane.ready.length === 0) {
      // Drained: forget the lane (only this one: a newer lane for the key may exist).
      if (!lane.open && this.lanes.get(key) === lane) this.lanes.delete(key);
      return;
    }
    if (this.inflight >= this.maxInFlight) {
      lane.queued = true;
      this.slotQueue.push({ key, lane });
      return;
    }
    this.send(key, lane);
  }

  /** Hands free slots to the lanes that waited longest. */
  private grantSlots(): void {
    while (this.inflight < this.maxInFlight && this.slotQueue.length > 0) {
      const { key, lane } = this.slotQueue.shift()!;
      lane.queued = false;
      // What gathered while the lane waited for a slot goes with it: that wait was its window.
      if (lane.ready.length === 0) this.close(lane);
      this.pump(key, lane);
    }
  }

  private send(key: string, lane: Lane<T>): void {
    const batch = lane.ready.shift()!;
    let body: Uint8Array;
    try {
      body = this.options.encode(batch.items);
    } catch (err) {
      this.pendingItems -= batch.items.length;
      for (const w of batch.waiters) w.reject(err);
      this.pump(key, lane);
      return;
    }
    lane.inflight = batch;
    this.inflight++;
    const started = performance.now();
    const deliverAfter = this.options.deliverAfterMs;
    const message =
      deliverAfter === undefined
        ? { ...lane.target, body }
        : { ...lane.target, body, deliverAt: Date.now() + deliverAfter };
    const finish = () => {
      lane.inflight = undefined;
      this.inflight--;
      // What gathered during the round trip goes at once: that wait was its window.
      if (lane.ready.length === 0) this.close(lane);
      // Lanes that waited for a slot go before this one's next batch.
      this.grantSlots();
      this.pump(key, lane);
    };
    const done = () => {
      this.pendingItems -= batch.items.length;
      // Paced: the slot (and the lane) stays taken until `minIntervalMs` after this publish began,
      // so what arrives meanwhile rides the next batch instead of costing a call of its own.
      const rest = this.minIntervalMs - (performance.now() - started);
      if (rest >= 1) setTimeout(finish, rest).unref();
      else finish();
    };
    this.bus.publish(message).then(
      () => {
        try {
          this.options.onPublished?.(lane.target, (performance.now() - started) / 1000, batch.items.length);
        } catch {
          // A metrics callback must not wedge the lane: the batch is stored either way.
        }
        for (const w of batch.waiters) w.resolve();
        done();
      },
      (err: unknown) => {
        for (const w of batch.waiters) w.reject(err);
        // An ordered target (a message group) stores a prefix of what was added, never a later
        // batch past a failed one: callers that publish several items of one conversation
        // without waiting for each (logic's pipelined sends) retry from the failed item on.
        if (lane.target.messageGroup !== undefined) {
          const queued = [batch, ...lane.ready, ...(lane.open ? [lane.open] : [])];
          this.failQueued(lane, err);
          const streamOf = this.options.streamOf;
          const at = performance.now();
          if (streamOf) {
            const streams = new Set<string>();
            for (const b of queued) for (const item of b.items) streams.add(streamOf(item));
            for (const stream of streams) this.held.set(stream, { err, at });
            if (typeof err === 'object' && err !== null) this.heldBy.set(err, [...streams]);
          }
        }
        done();
      },
    );
  }
}

function keyOf(target: BatchTarget): string {
  return `${target.topic}\u0000${target.messageGroup ?? ''}\u0000${target.tag ?? ''}`;
}
