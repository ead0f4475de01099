/**
 * The message bus port: what gate, logic, job and api need from RocketMQ, and nothing more.
 *
 * Contract every implementation keeps (checked by `runBusContract` in ./testing):
 *
 * - **Durable publish.** `publish()` resolves only once the broker has stored the message; a
 *   rejected promise means it may or may not have been stored (callers retry; consumers are
 *   idempotent).
 * - **At-least-once consumption.** A handler that resolves acks the message. A handler that throws,
 *   or does not finish within `invisibleMs`, gets the message again later with
 *   `deliveryAttempt + 1`. After `maxDeliveryAttempts` the message is dead-lettered and logged.
 *   Nothing is acked before the handler's effects are done: ack happens after the handler resolves.
 * - **Fan-out between groups, sharing within a group.** Every consumer group subscribed to a topic
 *   gets every message; the consumers of one group share the messages between them. A group gets
 *   what is published after it first subscribed to the topic (on RocketMQ, what came before may
 *   or may not be delivered): provision groups and subscribe before publishing.
 * - **FIFO topics.** Messages published with the same `messageGroup` are handed to an orderly group
 *   in publish order, one at a time: the next is not handed out until the previous was acked
 *   (a failed one is retried before anything behind it). Different message groups are independent.
 * - **Delay topics.** A message with `deliverAt` is not handed out before that time (the
 *   implementation's precision is documented on it; RocketMQ's timer wheel is `timerPrecisionMs`,
 *   100 ms on our broker, 1 s by default).
 * - **Shutdown.** `close()` waits for running handlers, each at most until its `invisibleMs` ends
 *   (after that its message belongs to another consumer anyway).
 * - **Explicit topics.** Publishing to or subscribing to a topic that was never provisioned with
 *   `ensureTopics` fails with `TopicNotFoundError`; the bus never creates topics implicitly.
 */
export type TopicKind = 'normal' | 'fifo' | 'delay';

export interface TopicSpec {
  name: string;
  kind: TopicKind;
  /**
   * Number of queues. One queue gives a total order over the whole topic (used for per-gate
   * topics, whose only consumer is one gate).
   * @default 8
   */
  queues?: number;
}

export interface GroupSpec {
  name: string;
  /** Orderly groups consume FIFO topics one message at a time per message group. */
  orderly: boolean;
}

export interface OutgoingMessage {
  topic: string;
  body: Uint8Array;
  /** Short routing tag (RocketMQ tag); consumers may log it. */
  tag?: string;
  /** Business keys, searchable in the broker's console (e.g. client_msg_id). */
  keys?: string[];
  /** Required on FIFO topics, forbidden elsewhere. */
  messageGroup?: string;
  /** Unix ms; required on delay topics, forbidden elsewhere. */
  deliverAt?: number;
}

export interface ReceivedMessage {
  /** Broker-assigned id, stable across redeliveries. */
  readonly id: string;
  readonly topic: string;
  readonly body: Uint8Array;
  readonly tag?: string;
  readonly keys: readonly string[];
  readonly messageGroup?: string;
  /** 1 on first delivery. */
  readonly deliveryAttempt: number;
  /**
   * Unix ms when it was published: MemoryBus's store time, RocketMQ's born timestamp (the
   * producer's clock at send time).
   */
  readonly bornAt: number;
}

export type MessageHandler = (message: ReceivedMessage) => Promise<void>;

/**
 * Handles several messages in one call (`subscribeBatch`). Resolving acks every one of them;
 * throwing hands every one of them out again (each with `deliveryAttempt + 1`).
 */
export type BatchHandler = (messages: readonly ReceivedMessage[]) => Promise<void>;

export interface SubscribeOptions {
  topic: string;
  group: string;
  /**
   * How many messages this subscriber handles at once (for FIFO topics: at once across different
   * message groups).
   * @default 16
   */
  concurrency?: number;
  /**
   * How long a handed-out message stays invisible to other consumers; a handler that has not
   * resolved by then may see it redelivered.
   * @default 30000
   */
  invisibleMs?: number;
  /** @default 16 */
  maxDeliveryAttempts?: number;
  /**
   * For streams nobody waits on (receipts, delayed checks): the least time between two fetches
   * from the broker, so under light load one fetch brings what arrived over the interval instead
   * of costing a broker call per message. Adds up to this much latency to every message; on a bus
   * without broker calls (MemoryBus) it is ignored.
   * @default 0
   */
  receiveIntervalMs?: number;
  /**
   * How long a handled message may wait so that its ack shares a broker call with others. The
   * handler's slot is free meanwhile; the message stays invisible (it must be well under
   * `invisibleMs`). Ignored on orderly FIFO groups, where the broker holds the queue until the
   * ack, so a late ack would delay every message behind it.
   * @default 0 (the next tick, shared with whatever finished meanwhile)
   */
  ackDelayMs?: number;
}

export interface BatchSubscribeOptions extends SubscribeOptions {
  /**
   * Most messages handed to one handler call; `concurrency` still counts messages.
   * @default 32
   */
  maxBatch?: number;
}

export interface Subscription {
  /** Stops fetching, waits for in-flight handlers to finish (they ack or not as usual). */
  close(): Promise<void>;
}

export interface MessageBus {
  /** Idempotent: creates missing topics, leaves existing ones alone. */
  ensureTopics(topics: readonly TopicSpec[]): Promise<void>;
  /** Idempotent: creates or updates consumer groups. */
  ensureGroups(groups: readonly GroupSpec[]): Promise<void>;
  publish(message: OutgoingMessage): Promise<string>;
  subscribe(options: SubscribeOptions, handler: MessageHandler): Promise<Subscription>;
  /**
   * Like `subscribe`, but hands out what is ready in groups: on an orderly group of a FIFO topic,
   * one call gets consecutive messages of **one** message group, in publish order, and nothing
   * behind them in that group is handed out until the call settled (a throw brings all of them
   * back, in order, before anything later). Elsewhere a call gets any ready messages. A consumer
   * that can work on many messages at once (merge batches, run their items in parallel) pays one
   * handler call and one ack round trip per group instead of per message.
   */
  subscribeBatch(options: BatchSubscribeOptions, handler: BatchHandler): Promise<Subscription>;
  /** Closes every subscription (as `Subscription.close`) and the producer. */
  close(): Promise<void>;
}

export class TopicNotFoundError extends Error {
  readonly code = 'IM_ERR_TOPIC_NOT_FOUND';
  constructor(readonly topic: string) {
    super(`topic "${topic}" does not exist; run \`mqim provision\` (or start the gate that owns it)`);
    this.name = 'TopicNotFoundError';
  }
}

export class BusUnavailableError extends Error {
  readonly code = 'IM_ERR_BUS_UNAVAILABLE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BusUnavailableError';
  }
}

/**
 * The message does not fit its topic: a `messageGroup` missing on a FIFO topic or present
 * elsewhere, a `deliverAt` missing on a delay topic or present elsewhere. RocketMQ's proxy refuses
 * such messages too (the message type must match the topic's), so this is caught before sending.
 */
export class InvalidMessageError extends Error {
  readonly code = 'IM_ERR_INVALID_MESSAGE';
  constructor(message: string) {
    super(message);
    this.name = 'InvalidMessageError';
  }
}
