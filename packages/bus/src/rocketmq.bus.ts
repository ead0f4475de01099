import { format } from 'node:util';
import { createLogger, type Logger } from '@mqim/config';
import {
  BadRequestException,
  NotFoundException,
  Producer,
  SimpleConsumer,
  type ILogger,
  type MessageView,
} from 'rocketmq-client-nodejs';
import {
  BusUnavailableError,
  InvalidMessageError,
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
import { assertFitsTopic, assertName, retryDelayFn, subscribeLimits } from './internal/validate';
import { AckBatcher } from './rocketmq/ack.batcher';
import { forwardToDeadLetter, lookupRoute, requestTimeoutOf } from './rocketmq/client.internals';
import { RocketMqAdmin } from './rocketmq/rocketmq.admin';

export interface RocketMqBusOptions {
  /** gRPC proxy endpoints, `host:port[;host:port]`, e.g. `127.0.0.1:8081`. */
  endpoints: string;
  /** Name server(s) for provisioning (`ensureTopics`, `ensureGroups`), `host:port[;host:port]`. */
  namesrv: string;
  /** RocketMQ namespace; topics and groups are provisioned as `namespace%name`. @default '' */
  namespace?: string;
  /** @default 'DefaultCluster' */
  cluster?: string;
  /** Per-RPC timeout of the gRPC client (≥ 1000) and of the admin client. @default 3000 */
  requestTimeoutMs?: number;
  /**
   * Long-polling wait of one receive call. Must be at least the proxy's
   * `grpcClientConsumerMinLongPollingTimeoutMillis` (5 s on a stock proxy, 1 s on ours): the proxy
   * lifts a shorter wait to that minimum, then refuses the call because the RPC deadline
   * (`requestTimeoutMs` + this) is too short for it. It also bounds how long a receive still in
   * flight outlives `close()` (the client library cannot cancel it).
   * @default 5000
   */
  awaitDurationMs?: number;
  /** Most messages asked for by one receive call (also bounded by free handler slots). @default 32 */
  receiveBatch?: number;
  /**
   * How long a message whose handler threw stays invisible before it is handed out again, given
   * the attempt that failed (set with `changeInvisibleDuration`).
   * @default 1 s, doubling per attempt, at most 60 s
   */
  retryDelayMs?: number | ((failedAttempt: number) => number);
  /**
   * How long `ensureTopics` waits for the gRPC proxy to route a new topic. The proxy caches
   * "topic not found" and re-reads it every `topicRouteServiceCacheRefreshSeconds` (20 s by default).
   * @default 30000
   */
  routeWaitMs?: number;
  /** @default createLogger('bus') */
  logger?: Logger;
  /**
   * Told of every RPC to the broker: the operation, the topic and how many MQ messages it carried
   * (metrics: the broker calls per chat message are what limits a cluster).
   */
  onBrokerCall?: BrokerCallObserver;
  /**
   * Told of every message a subscription receives: how long it spent between its producer and
   * this consumer, in ms (receive time minus the broker's born timestamp; hosts' clocks differ by
   * their skew). Summed over the hops, where a chat message's latency goes.
   */
  onTransit?: (topic: string, ms: number) => void;
  /**
   * What happens to the rocketmq client library's own log lines (which would otherwise go to
   * `~/logs/rocketmq/`): `'route'` sends them to `logger` (its info as debug), `'silent'` drops them.
   * @default 'route'
   */
  clientLogs?: 'route' | 'silent';
}

/**
 * `MessageBus` on RocketMQ 5 through the gRPC proxy, with `rocketmq-client-nodejs`: a Producer for
 * publish, one SimpleConsumer per subscription, and a remoting admin client for provisioning.
 *
 * How the port's contract maps onto RocketMQ:
 * - ack after the handler resolves (`ack`); a throwing handler gets `changeInvisibleDuration`
 *   (the retry delay), a hung one its message back when `invisibleMs` ends (broker side);
 * - after `maxDeliveryAttempts` the message is forwarded to the group's dead-letter queue
 *   (`%DLQ%group`) and logged;
 * - orderly groups on FIFO topics: the broker hands out a queue's messages only once the previous
 *   batch from that queue is acked; within a batch, messages of one message group are handled one
 *   after another, and a failure sends the failed message and everything behind it back;
 * - `deliverAt` becomes `deliveryTimestamp` (timer wheel, precision `timerPrecisionMs`);
 * - `bornAt` is the producer's clock at send time (RocketMQ's born timestamp).
 */
export interface ConsumerLag {
  group: string;
  topic: string;
  /** Messages on the topic the group has not consumed yet. */
  lag: number;
  queues: number;
  /** Store time (unix ms) of the newest message the group consumed; 0 when none yet. */
  lastConsumedAt: number;
}

export class RocketMqBus implements MessageBus {
  readonly admin: RocketMqAdmin;
  private readonly logger: Logger;
  private readonly clientLogger: ClientLogger;
  private readonly namespace: string;
  private readonly requestTimeoutMs: number;
  private readonly awaitDurationMs: number;
  private readonly receiveBatch: number;
  private readonly retryDelay: (failedAttempt: number) => number;
  private readonly routeWaitMs: number;
  private readonly kinds = new Map<string, TopicKind>();
  private readonly kindLookups = new Map<string, Promise<TopicKind | undefined>>();
  private readonly subscriptions = new Set<RocketMqSubscription>();

  /**
   * Subscriptions that cannot receive right now (their last receive from the proxy failed), as
   * "topic/group: why". Empty when every subscription's loop is fetching. For readiness probes.
   */
  subscriptionProblems(): string[] {
    return [...this.subscriptions].flatMap((s) => (s.problem ? [s.problem] : []));
  }

  /**
   * How far `group` is behind on `topic`, summed over every master broker: messages written and
   * not yet consumed (see `RocketMqAdmin.consumeStats`), and the store time of the newest message
   * it consumed. Names are the port's (the namespace is added here).
   */
  async consumerLag(group: string, topic: string): Promise<ConsumerLag> {
    this.assertOpen();
    const brokers = await this.admin.masterBrokers();
    const queues = (
      await Promise.all(brokers.map((b) => this.admin.consumeStats(b, this.wrap(group), this.wrap(topic))))
    ).flat();
    let lag = 0;
    let lastConsumedAt = 0;
    for (const q of queues) {
      lag += Math.max(0, q.brokerOffset - q.consumerOffset);
      lastConsumedAt = Math.max(lastConsumedAt, q.lastTimestamp);
    }
    return { group, topic, lag, queues: queues.length, lastConsumedAt };
  }

  private producer: Promise<Producer> | undefined;
  private closing: Promise<void> | undefined;

  constructor(private readonly options: RocketMqBusOptions) {
    this.logger = options.logger ?? createLogger('bus');
    this.clientLogger = new ClientLogger(this.logger, options.clientLogs ?? 'route');
    this.namespace = options.namespace ?? '';
    this.requestTimeoutMs = Math.max(1000, options.requestTimeoutMs ?? 3000);
    this.awaitDurationMs = options.awaitDurationMs ?? 5000;
    this.receiveBatch = options.receiveBatch ?? 32;
    this.retryDelay = retryDelayFn(options.retryDelayMs);
    this.routeWaitMs = options.routeWaitMs ?? 30_000;
    this.admin = new RocketMqAdmin({
      namesrv: options.namesrv,
      cluster: options.cluster,
      requestTimeoutMs: this.requestTimeoutMs,
    });
  }

  async ensureTopics(topics: readonly TopicSpec[]): Promise<void> {
    this.assertOpen();
    for (const t of topics) assertName('topic', t.name);
    await this.admin.ensureTopics(topics.map((t) => ({ ...t, name: this.wrap(t.name) })));
    for (const t of topics) this.kinds.set(t.name, t.kind);
    const producer = await this.getProducer();
    await Promise.all(topics.map((t) => this.waitForProxyRoute(producer, t.name)));
  }

  async ensureGroups(groups: readonly GroupSpec[]): Promise<void> {
    this.assertOpen();
    for (const g of groups) assertName('group', g.name);
    await this.admin.ensureGroups(groups.map((g) => ({ ...g, name: this.wrap(g.name) })));
  }

  async publish(message: OutgoingMessage): Promise<string> {
    this.assertOpen();
    const kind = this.kinds.get(message.topic) ?? (await this.lookupKind(message.topic));
    if (!kind) throw new TopicNotFoundError(message.topic);
    assertFitsTopic(kind, message);
    const producer = await this.getProducer();
    const body = message.body;
    this.options.onBrokerCall?.('publish', message.topic, 1);
    try {
      const receipt = await producer.send({
        topic: message.topic,
        body: Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength),
        tag: message.tag,
        keys: message.keys,
        messageGroup: message.messageGroup,
        deliveryTimestamp: message.deliverAt !== undefined ? new Date(message.deliverAt) : undefined,
      });
      return receipt.messageId;
    } catch (err) {
      throw this.mapError(err, message.topic, 'publish');
    }
  }

  subscribe(options: SubscribeOptions, handler: MessageHandler): Promise<Subscription> {
    return this.subscribeBatch({ ...options, maxBatch: 1 }, (messages) => handler(messages[0]!));
  }

  async subscribeBatch(options: BatchSubscribeOptions, handler: BatchHandler): Promise<Subscription> {
    this.assertOpen();
    assertName('group', options.group);
    const kind = this.kinds.get(options.topic) ?? (await this.lookupKind(options.topic));
    if (!kind) throw new TopicNotFoundError(options.topic);
    const settings: SubscriptionSettings = {
      topic: options.topic,
      group: options.group,
      handler,
      ...subscribeLimits(options),
      fifo: kind === 'fifo',
      receiveIntervalMs: nonNegative(options.receiveIntervalMs ?? 0, 'receiveIntervalMs'),
      ackDelayMs: kind === 'fifo' ? 0 : nonNegative(options.ackDelayMs ?? 0, 'ackDelayMs'),
    };
    if (settings.ackDelayMs * 2 > settings.invisibleMs)
      throw new RangeError(`ackDelayMs (${settings.ackDelayMs}) must be under half of invisibleMs`);
    const consumer = new SimpleConsumer({
      endpoints: this.options.endpoints,
      namespace: this.namespace,
      consumerGroup: options.group,
      subscriptions: new Map([[options.topic, '*']]),
      awaitDuration: this.awaitDurationMs,
      requestTimeout: this.requestTimeoutMs,
      logger: this.clientLogger,
    });
    try {
      await consumer.startup();
    } catch (err) {
      await shutdownQuietly(consumer, this.clientLogger);
      throw this.mapError(err, options.topic, 'subscribe');
    }
    const sub = new RocketMqSubscription(
      consumer,
      settings,
      this.retryDelay,
      this.receiveBatch,
      this.logger,
      this.clientLogger,
      (s) => this.subscriptions.delete(s),
      this.options.onBrokerCall,
      this.options.onTransit,
    );
    this.subscriptions.add(sub);
    sub.start();
    return sub;
  }

  /**
   * Per subscription, how far behind it is in time, as this process sees it: the age (now minus
   * the producer's born time) of the oldest message received and not yet done with, 0 when none
   * is in flight. A consumer that keeps up hands out fresh messages; one behind a backlog works on
   * old ones; one stuck in a handler sees its message age. (The broker's own lag in messages needs
   * the remoting admin API; this needs nothing but the messages. Producer clock skew adds to it.)
   */
  consumeDelays(now = Date.now()): { topic: string; group: string; ms: number }[] {
    return [...this.subscriptions].map((s) => ({ topic: s.topic, group: s.group, ms: s.delayMs(now) }));
  }

  /** Whether the name server routes `topic` to at least one readable and writable queue. */
  async topicRouted(topic: string): Promise<boolean> {
    const route = await this.admin.topicRoute(this.wrap(topic));
    return (route?.queueDatas ?? []).some((q) => q.readQueueNums > 0 && q.writeQueueNums > 0);
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.all([...this.subscriptions].map((s) => s.close()));
      const producer = await this.producer?.catch(() => undefined);
      if (producer) {
        this.clientLogger.quiet = true;
        await shutdownQuietly(producer, this.clientLogger);
      }
      this.admin.close();
    })();
    return this.closing;
  }

  private assertOpen(): void {
    if (this.closing) throw new BusUnavailableError('bus is closed');
  }

  private wrap(name: string): string {
    return this.namespace === '' ? name : `${this.namespace}%${name}`;
  }

  private getProducer(): Promise<Producer> {
    this.producer ??= (async () => {
      const producer = new Producer({
        endpoints: this.options.endpoints,
        namespace: this.namespace,
        requestTimeout: this.requestTimeoutMs,
        logger: this.clientLogger,
      });
      try {
        await producer.startup();
      } catch (err) {
        await shutdownQuietly(producer, this.clientLogger);
        throw new BusUnavailableError(`cannot start RocketMQ producer at ${this.options.endpoints}`, {
          cause: err,
        });
      }
      return producer;
    })();
    this.producer.catch(() => (this.producer = undefined));
    return this.producer;
  }

  /** The kind of a topic provisioned elsewhere, from the broker (cached once found). */
  private lookupKind(topic: string): Promise<TopicKind | undefined> {
    let lookup = this.kindLookups.get(topic);
    if (!lookup) {
      lookup = (async () => {
        try {
          const brokers = await this.admin.masterBrokers();
          const config = await this.admin.topicConfig(brokers[0]!, this.wrap(topic));
          if (!config) return undefined;
          const type = config.attributes?.['message.type'] ?? 'NORMAL';
          const kind: TopicKind = type === 'FIFO' ? 'fifo' : type === 'DELAY' ? 'delay' : 'normal';
          this.kinds.set(topic, kind);
          return kind;
        } finally {
          this.kindLookups.delete(topic);
        }
      })();
      this.kindLookups.set(topic, lookup);
    }
    return lookup;
  }

  /**
   * The proxy answers route queries from a cache that also keeps "not found" (refreshed every
   * 20 s by default): a topic queried before it existed stays invisible to clients until then.
   * Ask through the producer until the proxy routes it.
   */
  private async waitForProxyRoute(producer: Producer, topic: string): Promise<void> {
    const routeOf = (t: string): Promise<unknown> => lookupRoute(producer, t);
    const deadline = Date.now() + this.routeWaitMs;
    for (;;) {
      try {
        await routeOf(topic);
        return;
      } catch (err) {
        if (!(err instanceof NotFoundException) || Date.now() > deadline) {
          throw this.mapError(err, topic, `route lookup (waited ${this.routeWaitMs} ms)`);
        }
        await sleep(500);
      }
    }
  }

  private mapError(err: unknown, topic: string, what: string): Error {
    if (err instanceof NotFoundException) return new TopicNotFoundError(topic);
    const cause = err instanceof Error && err.cause instanceof NotFoundException ? err.cause : undefined;
    if (cause) return new TopicNotFoundError(topic);
    if (err instanceof BadRequestException)
      return new InvalidMessageError(`${what} on "${topic}": ${err.message}`);
    if (
      err instanceof BusUnavailableError ||
      err instanceof TopicNotFoundError ||
      err instanceof InvalidMessageError
    ) {
      return err;
    }
    const reason = err instanceof Error ? err.message : String(err);
    return new BusUnavailableError(`RocketMQ ${what} on "${topic}" failed: ${reason}`, { cause: err });
  }
}

export type BrokerCall = 'publish' | 'receive' | 'ack' | 'change_invisible' | 'dead_letter';
export type BrokerCallObserver = (op: BrokerCall, topic: string, messages: number) => void;

interface SubscriptionSettings {
  topic: string;
  group: string;
  handler: BatchHandler;
  concurrency: number;
  invisibleMs: number;
  maxDeliveryAttempts: number;
  maxBatch: number;
  fifo: boolean;
  receiveIntervalMs: number;
  ackDelayMs: number;
}

/** One SimpleConsumer and its receive loop: asks for as many messages as it has free slots. */
class RocketMqSubscription implements Subscription {
  private active = 0;
  private stopping = false;
  private wake: (() => void) | undefined;
  /** No receive before this (`receiveIntervalMs`), in `performance.now()` time. */
  private pauseUntil = 0;
  private loop: Promise<void> | undefined;
  private readonly tasks = new Set<Promise<void>>();
  /** When the last handed-out message's invisibility ends: close() waits no longer than that. */
  private latestDeadline = 0;
  private closed: Promise<void> | undefined;
  private readonly acks: AckBatcher;
  /** Why the last receive failed; cleared by the next one that succeeds. */
  problem: string | undefined;
  /** Born time (ms) of each message handed to the handler and not yet done with. */
  private readonly inFlight = new Map<MessageView, number>();

  constructor(
    private readonly consumer: SimpleConsumer,
    private readonly s: SubscriptionSettings,
    private readonly retryDelay: (failedAttempt: number) => number,
    private readonly receiveBatch: number,
    private readonly logger: Logger,
    private readonly clientLogger: ClientLogger,
    private readonly onClose: (sub: RocketMqSubscription) => void,
    private readonly onCall: BrokerCallObserver = () => undefined,
    private readonly onTransit?: (topic: string, ms: number) => void,
  ) {
    this.acks = new AckBatcher(
      consumer,
      s.topic,
      s.group,
      requestTimeoutOf(consumer),
      Math.max(1, s.ackDelayMs),
      (n) => onCall('ack', s.topic, n),
    );
  }

  start(): void {
    this.loop = this.run();
  }

  get topic(): string {
    return this.s.topic;
  }

  get group(): string {
    return this.s.group;
  }

  /** Age of the oldest message in flight; 0 when none is. */
  delayMs(now: number): number {
    let oldest = now;
    for (const born of this.inFlight.values()) if (born < oldest) oldest = born;
    return Math.max(0, now - oldest);
  }

  private settled(views: readonly MessageView[]): void {
    for (const v of views) this.inFlight.delete(v);
  }

  close(): Promise<void> {
    this.closed ??= (async () => {
      this.stopping = true;
      this.wake?.();
      // Handlers finish (and ack) first, each at most until its invisibility ends: after that its
      // message belongs to someone else anyway.
      // A finished handler leaves its delayed ack behind as a task of its own: wait for those too,
      // and send them now rather than at the end of their delay.
      while (this.tasks.size > 0) {
        const wait = this.latestDeadline - Date.now();
        if (wait <= 0) break;
        this.acks.flush();
        await Promise.race([Promise.all(this.tasks), sleep(Math.min(wait, 50), true)]);
      }
      this.clientLogger.quiet = true;
      await shutdownQuietly(this.consumer, this.clientLogger);
      // A receive still in flight cannot be cancelled through the client library: it ends by
      // itself within awaitDurationMs, and whatever it brings is left to become visible again.
      await Promise.race([this.loop, sleep(100, true)]);
      this.onClose(this);
    })();
    return this.closed;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      const pause = this.pauseUntil - performance.now();
      if (pause >= 1) {
        // close() ends the pause early through `wake`.
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, pause);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wake = undefined;
        continue;
      }
      const free = this.s.concurrency - this.active;
      if (free <= 0) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
        continue;
      }
      let batch: MessageView[];
      const fetchStarted = performance.now();
      try {
        batch = await this.consumer.receive(Math.min(free, this.receiveBatch), this.s.invisibleMs);
        this.onCall('receive', this.s.topic, batch.length);
        failures = 0;
        this.problem = undefined;
      } catch (err) {
        if (this.stopping) break;
        failures++;
        this.problem = `${this.s.topic}/${this.s.group}: receive failed (${errorText(err)})`;
        this.logger.warn(
          { topic: this.s.topic, group: this.s.group, err: errorText(err) },
          'RocketMQ receive failed; retrying',
        );
        await sleep(Math.min(200 * 2 ** failures, 5000), true);
        continue;
      }
      if (batch.length === 0) continue;
      // A short fetch under light load: the rest of the interval gathers the next one's messages
      // (a long poll that came back empty waited long enough already).
      const rest = this.s.receiveIntervalMs - (performance.now() - fetchStarted);
      if (rest >= 1 && batch.length < this.receiveBatch) this.pauseUntil = performance.now() + rest;
      if (this.stopping) {
        // Received while closing: hand them back at once, if the consumer still runs.
        if (this.consumer.isRunning()) await Promise.all(batch.map((m) => this.changeInvisible(m, 0)));
        break;
      }
      this.latestDeadline = Date.now() + this.s.invisibleMs;
      const receivedAt = Date.now();
      for (const m of batch) {
        const born = m.bornTimestamp?.getTime() ?? receivedAt;
        this.inFlight.set(m, born);
        // From when it was due (a delay message's deliver time, not its 5 s wait); a redelivery's
        // time is the invisibility it served, not transit.
        if ((m.deliveryAttempt ?? 1) === 1)
          this.onTransit?.(this.s.topic, receivedAt - Math.max(born, m.deliveryTimestamp?.getTime() ?? 0));
      }
      this.active += batch.length;
      if (this.s.fifo) for (const chain of chainsByGroup(batch)) this.track(this.runChain(chain));
      else for (const group of chunks(batch, this.s.maxBatch)) this.track(this.runGroup(group));
    }
  }

  private track(task: Promise<void>): void {
    this.tasks.add(task);
    void task.finally(() => this.tasks.delete(task));
  }

  private release(n: number): void {
    this.active -= n;
    this.wake?.();
  }

  /**
   * Handles messages of one message group in order, up to `maxBatch` per handler call; a failure
   * sends the failed ones and the rest back.
   */
  private async runChain(chain: MessageView[]): Promise<void> {
    const groups = chunks(chain, this.s.maxBatch);
    for (let i = 0; i < groups.length; i++) {
      const ok = await this.handleGroup(groups[i]!);
      this.settled(groups[i]!);
      this.release(groups[i]!.length);
      if (!ok) {
        const rest = groups.slice(i + 1).flat();
        this.settled(rest);
        const delay = this.retryDelay(groups[i]![0]!.deliveryAttempt ?? 1);
        await Promise.all(rest.map((m) => this.changeInvisible(m, delay)));
        this.release(rest.length);
        return;
      }
    }
  }

  private async runGroup(group: MessageView[]): Promise<void> {
    await this.handleGroup(group);
    this.settled(group);
    this.release(group.length);
  }

  /**
   * True when the message is done with (acked or dead-lettered). On orderly FIFO groups a failed
   * message is retried here, in this consumer, after the retry delay: the broker re-reads a FIFO
   * queue from its first unacked offset (so `changeInvisibleDuration` would also bring back the
   * acked messages behind it) and does not count such re-deliveries in `deliveryAttempt`.
   */
  private async handleGroup(views: MessageView[]): Promise<boolean> {
    const first = Math.max(...views.map((v) => v.deliveryAttempt ?? 1));
    const deadLetterAll = (attempt: number, reason: unknown) =>
      Promise.all(views.map((v) => this.deadLetter(v, attempt, reason)));
    for (let attempt = first; ; attempt++) {
      if (attempt > this.s.maxDeliveryAttempts) {
        await deadLetterAll(attempt, new Error(`delivered ${attempt} times, more than maxDeliveryAttempts`));
        return true;
      }
      try {
        await this.s.handler(views.map((v) => toReceived(v, this.s.topic, attempt)));
      } catch (err) {
        if (attempt >= this.s.maxDeliveryAttempts) {
          await deadLetterAll(attempt, err);
          return true;
        }
        const delay = this.retryDelay(attempt);
        if (this.s.fifo && !this.stopping) {
          await sleep(delay, true);
          continue;
        }
        await Promise.all(views.map((v) => this.changeInvisible(v, delay)));
        return false;
      }
      const acked = Promise.all(
        views.map((view) =>
          this.acks.ack(view).catch((err: unknown) => {
            // Typically the invisibility ended first: the message was (or will be) handed out again.
            this.logger.warn(
              { topic: this.s.topic, group: this.s.group, messageId: view.messageId, err: errorText(err) },
              'ack failed; the message will be delivered again',
            );
          }),
        ),
      );
      // A delayed ack does not hold the handler's slot (close() still waits for it).
      if (this.s.ackDelayMs > 0) this.track(acked.then(() => undefined));
      else await acked;
      return true;
    }
  }

  private async changeInvisible(view: MessageView, ms: number): Promise<void> {
    this.onCall('change_invisible', this.s.topic, 1);
    try {
      await this.consumer.changeInvisibleDuration(view, ms);
    } catch (err) {
      this.logger.warn(
        { topic: this.s.topic, group: this.s.group, messageId: view.messageId, err: errorText(err) },
        'changeInvisibleDuration failed; the message comes back when its invisibility ends',
      );
    }
  }

  private async deadLetter(view: MessageView, attempt: number, reason: unknown): Promise<void> {
    this.logger.error(
      {
        topic: this.s.topic,
        group: this.s.group,
        messageId: view.messageId,
        attempts: attempt,
        err: errorText(reason),
      },
      'message dead-lettered after maxDeliveryAttempts',
    );
    this.onCall('dead_letter', this.s.topic, 1);
    try {
      await forwardToDeadLetter(
        this.consumer,
        this.s.group,
        this.s.topic,
        view,
        attempt,
        this.s.maxDeliveryAttempts,
      );
    } catch (err) {
      // The broker keeps it; it comes back and is dead-lettered again on its next delivery.
      this.logger.warn(
        { topic: this.s.topic, group: this.s.group, messageId: view.messageId, err: errorText(err) },
        'forwarding to the dead-letter queue failed',
      );
    }
  }
}

function toReceived(view: MessageView, topic: string, attempt: number): ReceivedMessage {
  return {
    id: view.messageId,
    topic,
    body: view.body,
    // The client reports "no tag" / "no message group" as empty strings.
    tag: view.tag || undefined,
    keys: view.keys,
    messageGroup: view.messageGroup || undefined,
    deliveryAttempt: attempt,
    bornAt: view.bornTimestamp?.getTime() ?? Date.now(),
  };
}

/** `Code.OK` of apache.rocketmq.v2. */

function chunks<T>(items: T[], size: number): T[][] {
  if (items.length <= size) return [items];
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Splits a FIFO batch into per-message-group chains, keeping the received order in each. */
function chainsByGroup(batch: MessageView[]): MessageView[][] {
  const chains = new Map<string, MessageView[]>();
  for (const m of batch) {
    const key = m.messageGroup ?? '';
    const chain = chains.get(key);
    if (chain) chain.push(m);
    else chains.set(key, [m]);
  }
  return [...chains.values()];
}

/**
 * Routes the client library's printf-style log calls into our logger instead of its default
 * file under `~/logs/rocketmq/`. While shutting down, its errors (aborted long polls) are debug.
 */
class ClientLogger implements ILogger {
  quiet = false;
  private readonly log: Logger;

  constructor(
    logger: Logger,
    private readonly mode: 'route' | 'silent',
  ) {
    this.log = logger.child({ component: 'rocketmq-client' });
  }

  // The library logs a debug line per receive: format only what will be written.
  info(...args: unknown[]): void {
    if (this.mode === 'route' && this.log.isLevelEnabled('debug')) this.log.debug(format(...args));
  }

  debug(...args: unknown[]): void {
    if (this.mode === 'route' && this.log.isLevelEnabled('trace')) this.log.trace(format(...args));
  }

  warn(...args: unknown[]): void {
    if (this.mode === 'route') this.log[this.quiet ? 'debug' : 'warn'](format(...args));
  }

  error(...args: unknown[]): void {
    if (this.mode === 'route') this.log[this.quiet ? 'debug' : 'error'](format(...args));
  }

  close(): void {}
}

async function shutdownQuietly(client: Producer | SimpleConsumer, logger: ClientLogger): Promise<void> {
  try {
    await client.shutdown();
  } catch (err) {
    logger.warn('shutdown failed: %s', errorText(err));
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function sleep(ms: number, unref = false): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    if (unref) timer.unref();
  });
}

function nonNegative(value: number, what: string): number {
  if (!Number.isFinite(value) || value < 0)
    throw new RangeError(`${what} must be a number >= 0, got ${value}`);
  return value;
}
