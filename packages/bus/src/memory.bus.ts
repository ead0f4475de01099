import { randomBytes } from 'node:crypto';
import { createLogger, type Logger } from '@mqim/config';
import {
  BusUnavailableError,
  TopicNotFoundError,
  type BatchHandler,
  type BatchSubscribeOptions,
  type GroupSpec,
  type MessageBus,
  type MessageHandler,
  type OutgoingMessage,
  type ReceivedMessage,
  type SubscribeOptions,
  type Subscription,
  type TopicKind,
  type TopicSpec,
} from './message-bus.port';
import { Deque } from './internal/deque';
import { TimerHeap } from './internal/timer-heap';
import { assertFitsTopic, assertName, retryDelayFn, subscribeLimits } from './internal/validate';

export interface MemoryBusOptions {
  /**
   * The in-process "broker" this bus talks to. Buses sharing one see the same topics, groups and
   * messages, like processes sharing a RocketMQ cluster (tests use this to kill one consumer and
   * watch another take over).
   * @default a broker of its own, stopped when the bus closes
   */
  broker?: MemoryBroker;
  /**
   * How long a message whose handler threw stays invisible before it is handed out again, given
   * the attempt that failed (1 for the first delivery). Tests use a few milliseconds.
   * @default 1 s, doubling per attempt, at most 60 s (what RocketMqBus does too)
   */
  retryDelayMs?: number | ((failedAttempt: number) => number);
  /** Receives dead letters (error) and handler timeouts (warn). @default createLogger('bus') */
  logger?: Logger;
}

export interface MemoryBrokerOptions {
  /**
   * Dead-lettered messages kept per (topic, group) for `deadLetters()`; older ones are dropped.
   * @default 1000
   */
  deadLetterLimit?: number;
}

/**
 * The in-process `MessageBus` of the standalone server, with the port's semantics (see
 * message-bus.port.ts). Precision of `deliverAt`: a few milliseconds (one timer for all deadlines).
 *
 * A consumer group starts receiving a topic's messages when its first subscriber subscribes to
 * that topic and keeps accumulating them while it has no subscriber (like a broker-side offset),
 * so a subscriber that closes without acking hands its messages to the next one. Groups not
 * passed to `ensureGroups` are created non-orderly on first use, as RocketMQ's broker does.
 */
export class MemoryBus implements MessageBus {
  readonly broker: MemoryBroker;
  private readonly ownsBroker: boolean;
  private readonly logger: Logger;
  private readonly retryDelay: (failedAttempt: number) => number;
  private readonly subscriptions = new Set<MemorySubscription>();
  private closing: Promise<void> | undefined;

  constructor(options: MemoryBusOptions = {}) {
    this.ownsBroker = options.broker === undefined;
    this.broker = options.broker ?? new MemoryBroker();
    this.logger = options.logger ?? createLogger('bus');
    this.retryDelay = retryDelayFn(options.retryDelayMs);
  }

  async ensureTopics(topics: readonly TopicSpec[]): Promise<void> {
    this.assertOpen();
    this.broker.ensureTopics(topics);
  }

  async ensureGroups(groups: readonly GroupSpec[]): Promise<void> {
    this.assertOpen();
    this.broker.ensureGroups(groups);
  }

  publish(message: OutgoingMessage): Promise<string> {
    if (this.closing) return Promise.reject(new BusUnavailableError('bus is closed'));
    try {
      return Promise.resolve(this.broker.publish(message));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  subscribe(options: SubscribeOptions, handler: MessageHandler): Promise<Subscription> {
    return this.subscribeBatch({ ...options, maxBatch: 1 }, (messages) => handler(messages[0]!));
  }

  async subscribeBatch(options: BatchSubscribeOptions, handler: BatchHandler): Promise<Subscription> {
    this.assertOpen();
    const sub = this.broker.attach(options, handler, this.retryDelay, this.logger, (s) =>
      this.subscriptions.delete(s),
    );
    this.subscriptions.add(sub);
    return sub;
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.all([...this.subscriptions].map((s) => s.close()));
      if (this.ownsBroker) this.broker.stop();
    })();
    return this.closing;
  }

  /** Messages of (topic, group) given up after `maxDeliveryAttempts`, oldest first. */
  deadLetters(topic: string, group: string): ReceivedMessage[] {
    return this.broker.deadLetters(topic, group);
  }

  private assertOpen(): void {
    if (this.closing) throw new BusUnavailableError('bus is closed');
  }
}

/**
 * What a RocketMQ cluster is to its clients, in one process: topics, groups, per-group queues and
 * the delivery machinery. Costs, for the ≥15k msg/s standalone target: bodies are never copied;
 * immediate messages are handed out from one `setImmediate` per event-loop turn for all pending
 * work; delays, retries and invisibility deadlines share one timer heap.
 */
export class MemoryBroker {
  private readonly topics = new Map<string, TopicState>();
  private readonly groups = new Map<string, GroupSpec>();
  private readonly timers = new TimerHeap();
  private readonly deadLetterLimit: number;
  private readonly idPrefix = randomBytes(6).toString('hex');
  private idSeq = 0;
  private dirty: GroupQueue[] = [];
  private flushScheduled = false;
  private stopped = false;

  constructor(options: MemoryBrokerOptions = {}) {
    this.deadLetterLimit = options.deadLetterLimit ?? 1000;
  }

  ensureTopics(topics: readonly TopicSpec[]): void {
    for (const spec of topics) {
      assertName('topic', spec.name);
      const existing = this.topics.get(spec.name);
      if (existing) {
        if (existing.kind !== spec.kind) {
          throw new Error(`topic "${spec.name}" exists as ${existing.kind}, cannot become ${spec.kind}`);
        }
        continue;
      }
      this.topics.set(spec.name, new TopicState(spec.name, spec.kind));
    }
  }

  ensureGroups(groups: readonly GroupSpec[]): void {
    for (const spec of groups) {
      assertName('group', spec.name);
      this.groups.set(spec.name, { name: spec.name, orderly: spec.orderly });
    }
  }

  /** Stores the message (or schedules it, when delayed) and returns its id. */
  publish(message: OutgoingMessage): string {
    if (this.stopped) throw new BusUnavailableError('broker is stopped');
    const topic = this.topics.get(message.topic);
    if (!topic) throw new TopicNotFoundError(message.topic);
    assertFitsTopic(topic.kind, message);
    const now = Date.now();
    const stored: StoredMessage = {
      id: this.idPrefix + (++this.idSeq).toString(16).padStart(10, '0'),
      topic: topic.name,
      body: message.body,
      tag: message.tag,
      keys: message.keys ?? [],
      messageGroup: message.messageGroup,
      bornAt: now,
    };
    if (message.deliverAt !== undefined && message.deliverAt > now) {
      this.timers.schedule(message.deliverAt, () => this.fanOut(topic, stored));
    } else {
      this.fanOut(topic, stored);
    }
    return stored.id;
  }

  /** @internal Used by MemoryBus.subscribe. */
  attach(
    options: BatchSubscribeOptions,
    handler: BatchHandler,
    retryDelay: (failedAttempt: number) => number,
    logger: Logger,
    onClose: (sub: MemorySubscription) => void,
  ): MemorySubscription {
    if (this.stopped) throw new BusUnavailableError('broker is stopped');
    const topic = this.topics.get(options.topic);
    if (!topic) throw new TopicNotFoundError(options.topic);
    assertName('group', options.group);
    let queue = topic.queues.get(options.group);
    if (!queue) {
      const orderly = topic.kind === 'fifo' && (this.groups.get(options.group)?.orderly ?? false);
      if (topic.kind === 'fifo' && !orderly) {
        logger.warn(
          { topic: topic.name, group: options.group },
          'group is not orderly: FIFO topic consumed without order (ensureGroups with orderly: true)',
        );
      }
      queue = new GroupQueue(topic.name, options.group, orderly);
      topic.queues.set(options.group, queue);
    }
    const sub = new MemorySubscription(
      this,
      queue,
      handler,
      {
        ...subscribeLimits(options),
        retryDelay,
        logger,
      },
      onClose,
    );
    queue.subscribers.push(sub);
    this.markDirty(queue);
    return sub;
  }

  /** Messages of (topic, group) given up after `maxDeliveryAttempts`, oldest first. */
  deadLetters(topic: string, group: string): ReceivedMessage[] {
    return [...(this.topics.get(topic)?.queues.get(group)?.deadLetters ?? [])];
  }

  /** Drops pending delays and retries; for the end of the process (or of a test). */
  stop(): void {
    this.stopped = true;
    this.timers.stop();
    this.dirty = [];
  }

  // ---- internals, used by MemorySubscription -------------------------------------------------

  /** @internal */
  detach(sub: MemorySubscription): void {
    const list = sub.queue.subscribers;
    const at = list.indexOf(sub);
    if (at >= 0) list.splice(at, 1);
  }

  /** @internal Keeps the process alive while a close waits for a handler's invisibility to end. */
  keepAlive(on: boolean): void {
    this.timers.keepAlive(on);
  }

  private fanOut(topic: TopicState, message: StoredMessage): void {
    for (const queue of topic.queues.values()) this.enqueue(queue, { message, attempts: 0, lane: undefined });
  }

  private enqueue(queue: GroupQueue, entry: Entry): void {
    if (queue.orderly) {
      const key = entry.message.messageGroup ?? '';
      let lane = queue.lanes.get(key);
      if (lane) {
        lane.items.push(entry);
      } else {
        lane = new Lane(key);
        lane.items.push(entry);
        queue.lanes.set(key, lane);
        queue.readyLanes.push(lane);
      }
      entry.lane = lane;
    } else {
      queue.ready.push(entry);
    }
    this.markDirty(queue);
  }

  private markDirty(queue: GroupQueue): void {
    if (queue.dirty || queue.subscribers.length === 0 || this.stopped) return;
    queue.dirty = true;
    this.dirty.push(queue);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flush);
    }
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    const queues = this.dirty;
    this.dirty = [];
    for (const queue of queues) {
      queue.dirty = false;
      this.dispatch(queue);
    }
  };

  private dispatch(queue: GroupQueue): void {
    for (;;) {
      if (queue.orderly ? queue.readyLanes.length === 0 : queue.ready.length === 0) return;
      const sub = queue.nextFreeSubscriber();
      if (!sub) return;
      const take = Math.min(sub.maxBatch, sub.concurrency - sub.active);
      const entries: Entry[] = [];
      if (queue.orderly) {
        // Consecutive messages of one message group; the lane stays busy until they settle.
        const lane = queue.readyLanes.shift()!;
        lane.busy = true;
        const n = Math.min(take, lane.items.length);
        for (let i = 0; i < n; i++) entries.push(lane.items.at(i)!);
      } else {
        while (entries.length < take && queue.ready.length > 0) entries.push(queue.ready.shift()!);
      }
      this.deliver(sub, entries);
    }
  }

  private deliver(sub: MemorySubscription, entries: Entry[]): void {
    const delivery = new Delivery(entries, sub, Date.now() + sub.invisibleMs);
    sub.active += entries.length;
    sub.pending++;
    sub.inflight.push(delivery);
    this.armExpiry(sub);
    const views = entries.map((entry): ReceivedMessage => {
      entry.attempts++;
      const m = entry.message;
      return {
        id: m.id,
        topic: m.topic,
        body: m.body,
        tag: m.tag,
        keys: m.keys,
        messageGroup: m.messageGroup,
        deliveryAttempt: entry.attempts,
        bornAt: m.bornAt,
      };
    });
    let result: Promise<void> | undefined;
    try {
      result = sub.handler(views);
    } catch (err) {
      this.settle(delivery, false, err);
      return;
    }
    if (result && typeof result.then === 'function') {
      result.then(
        () => this.settle(delivery, true, undefined),
        (err: unknown) => this.settle(delivery, false, err),
      );
    } else {
      this.settle(delivery, true, undefined);
    }
  }

  private settle(delivery: Delivery, ok: boolean, error: unknown): void {
    if (delivery.done) return;
    delivery.done = true;
    const sub = delivery.sub;
    const queue = sub.queue;
    sub.active -= delivery.entries.length;
    sub.trimInflight();
    if (!delivery.expired) {
      // Its invisibility has not ended: the result counts (an expired delivery's ack is stale,
      // the message has already been handed out again, as a broker would reject the receipt).
      sub.pendingDone();
      if (ok) this.ack(queue, delivery.entries);
      else this.fail(queue, delivery.entries, sub, error);
    }
    this.markDirty(queue);
  }

  /** Done with `entries` (all of one lane when orderly, its head first). */
  private ack(queue: GroupQueue, entries: readonly Entry[]): void {
    const lane = entries[0]?.lane;
    if (!lane) return;
    for (let i = 0; i < entries.length; i++) lane.items.shift();
    lane.busy = false;
    if (lane.items.length > 0) queue.readyLanes.push(lane);
    else queue.lanes.delete(lane.key);
  }

  private fail(queue: GroupQueue, entries: readonly Entry[], sub: MemorySubscription, error: unknown): void {
    if (entries[0]?.lane) {
      // Orderly: the group's head comes back first, with everything handed out behind it.
      const head = entries[0];
      if (head.attempts >= sub.maxDeliveryAttempts) {
        this.deadLetter(queue, entries, sub.logger, error);
        return;
      }
      this.retryLater(queue, entries, sub.retryDelay(head.attempts));
      return;
    }
    for (const entry of entries) {
      if (entry.attempts >= sub.maxDeliveryAttempts) this.deadLetter(queue, [entry], sub.logger, error);
      else this.retryLater(queue, [entry], sub.retryDelay(entry.attempts));
    }
  }

  private retryLater(queue: GroupQueue, entries: readonly Entry[], delay: number): void {
    if (delay > 0) this.timers.schedule(Date.now() + delay, () => this.requeue(queue, entries));
    else this.requeue(queue, entries);
  }

  private requeue(queue: GroupQueue, entries: readonly Entry[]): void {
    const lane = entries[0]?.lane;
    if (lane) {
      // The lane stayed busy while the messages waited, so nothing behind them was handed out.
      lane.busy = false;
      queue.readyLanes.push(lane);
    } else {
      for (const entry of entries) queue.ready.push(entry);
    }
    this.markDirty(queue);
  }

  private deadLetter(queue: GroupQueue, entries: readonly Entry[], logger: Logger, error: unknown): void {
    for (const entry of entries) {
      const m = entry.message;
      logger.error(
        { topic: m.topic, group: queue.group, messageId: m.id, attempts: entry.attempts, err: error },
        'message dead-lettered after maxDeliveryAttempts',
      );
      queue.deadLetters.push({ ...m, deliveryAttempt: entry.attempts });
      if (queue.deadLetters.length > this.deadLetterLimit) queue.deadLetters.shift();
    }
    this.ack(queue, entries);
  }

  private armExpiry(sub: MemorySubscription): void {
    if (sub.expiryArmed) return;
    const first = sub.inflight.peek();
    if (!first) return;
    sub.expiryArmed = true;
    this.timers.schedule(first.deadline, () => this.expire(sub));
  }

  private expire(sub: MemorySubscription): void {
    sub.expiryArmed = false;
    const now = Date.now();
    for (;;) {
      const first = sub.inflight.peek();
      if (!first) break;
      if (first.done) {
        sub.inflight.shift();
        continue;
      }
      if (first.deadline > now) break;
      sub.inflight.shift();
      first.expired = true;
      sub.pendingDone();
      const entries = first.entries;
      sub.logger.warn(
        {
          topic: entries[0]!.message.topic,
          group: sub.queue.group,
          messageId: entries[0]!.message.id,
          messages: entries.length,
          invisibleMs: sub.invisibleMs,
        },
        'handler did not finish within invisibleMs: message handed out again',
      );
      const timeout = new Error(`handler timed out after ${sub.invisibleMs} ms`);
      if (entries[0]!.lane) {
        if (entries[0]!.attempts >= sub.maxDeliveryAttempts)
          this.deadLetter(sub.queue, entries, sub.logger, timeout);
        else this.requeue(sub.queue, entries);
      } else {
        for (const entry of entries) {
          if (entry.attempts >= sub.maxDeliveryAttempts)
            this.deadLetter(sub.queue, [entry], sub.logger, timeout);
          else this.requeue(sub.queue, [entry]);
        }
      }
    }
    this.armExpiry(sub);
  }
}

interface StoredMessage {
  readonly id: string;
  readonly topic: string;
  readonly body: Uint8Array;
  readonly tag: string | undefined;
  readonly keys: readonly string[];
  readonly messageGroup: string | undefined;
  readonly bornAt: number;
}

/** One message as one group sees it. */
interface Entry {
  readonly message: StoredMessage;
  attempts: number;
  lane: Lane | undefined;
}

/**
 * The messages of one message group, for an orderly consumer group. Exists while it holds
 * messages; then it is either waiting in `readyLanes` or `busy` (head handed out, or failed and
 * waiting for its retry).
 */
class Lane {
  readonly items = new Deque<Entry>(4);
  busy = false;
  constructor(readonly key: string) {}
}

class Delivery {
  done = false;
  expired = false;
  constructor(
    readonly entries: Entry[],
    readonly sub: MemorySubscription,
    readonly deadline: number,
  ) {}
}

class TopicState {
  readonly queues = new Map<string, GroupQueue>();
  constructor(
    readonly name: string,
    readonly kind: TopicKind,
  ) {}
}

/** One consumer group's view of one topic: what it has yet to consume. */
class GroupQueue {
  readonly ready = new Deque<Entry>();
  readonly lanes = new Map<string, Lane>();
  readonly readyLanes = new Deque<Lane>();
  readonly subscribers: MemorySubscription[] = [];
  readonly deadLetters: ReceivedMessage[] = [];
  dirty = false;
  private rr = 0;

  constructor(
    readonly topic: string,
    readonly group: string,
    readonly orderly: boolean,
  ) {}

  /** Round robin over the subscribers that have a free handler slot. */
  nextFreeSubscriber(): MemorySubscription | undefined {
    const subs = this.subscribers;
    const n = subs.length;
    for (let i = 0; i < n; i++) {
      const at = (this.rr + i) % n;
      const sub = subs[at]!;
      if (sub.active < sub.concurrency) {
        this.rr = (at + 1) % n;
        return sub;
      }
    }
    return undefined;
  }
}

interface SubscriptionSettings {
  concurrency: number;
  invisibleMs: number;
  maxDeliveryAttempts: number;
  maxBatch: number;
  retryDelay: (failedAttempt: number) => number;
  logger: Logger;
}

class MemorySubscription implements Subscription {
  /** Handlers running, including ones whose invisibility ended (they still hold a slot). */
  active = 0;
  /** Handlers running whose result still counts: what `close()` waits for. */
  pending = 0;
  /** Deliveries in deadline order (invisibleMs is fixed per subscription). */
  readonly inflight = new Deque<Delivery>();
  expiryArmed = false;
  private closed: Promise<void> | undefined;
  private idle: (() => void) | undefined;

  readonly concurrency: number;
  readonly invisibleMs: number;
  readonly maxDeliveryAttempts: number;
  readonly maxBatch: number;
  readonly retryDelay: (failedAttempt: number) => number;
  readonly logger: Logger;

  constructor(
    private readonly broker: MemoryBroker,
    readonly queue: GroupQueue,
    readonly handler: BatchHandler,
    settings: SubscriptionSettings,
    private readonly onClose: (sub: MemorySubscription) => void,
  ) {
    this.concurrency = settings.concurrency;
    this.invisibleMs = settings.invisibleMs;
    this.maxDeliveryAttempts = settings.maxDeliveryAttempts;
    this.maxBatch = settings.maxBatch;
    this.retryDelay = settings.retryDelay;
    this.logger = settings.logger;
  }

  trimInflight(): void {
    while (this.inflight.length > 0 && this.inflight.peek()!.done) this.inflight.shift();
  }

  pendingDone(): void {
    this.pending--;
    if (this.pending === 0 && this.idle) this.idle();
  }

  /**
   * Stops taking messages and waits for running handlers, each at most until its invisibility
   * ends (after that its message belongs to someone else and its result no longer counts).
   */
  close(): Promise<void> {
    this.closed ??= (async () => {
      this.broker.detach(this);
      try {
        if (this.pending === 0) return;
        this.broker.keepAlive(true);
        try {
          await new Promise<void>((resolve) => (this.idle = resolve));
        } finally {
          this.broker.keepAlive(false);
        }
      } finally {
        this.onClose(this);
      }
    })();
    return this.closed;
  }
}
