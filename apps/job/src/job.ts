import { EventPublisher, type MessageBus, type Subscription } from '@mqim/bus';
import { GatePublisher } from '@mqim/delivery';
import type { Cache } from '@mqim/cache';
import type { Logger } from '@mqim/config';
import type { MqimMetrics } from '@mqim/metrics';
import { MqNames, mqim, positionEventId } from '@mqim/protocol';
import type { Store } from '@mqim/store';
import { DeliveryConsumer } from './delivery.consumer';
import { StoreOfflinePusher, type Notifier } from './offline.pusher';
import { PushCheckConsumer, PushCheckScheduler } from './push-check';
import { pushOutcomeEvent } from './push.events';
import type { PushNotification, PushReport } from '@mqim/push';
import { ReceiptConsumer } from './receipt.consumer';
import { ReceiptFlusher } from './receipt.flusher';
import type { ObserverHooks } from './observer.hooks';

export interface JobOptions {
  topicPrefix: string;
  batchWindowMs: number;
  receiptFlushMs: number;
  pushCheckDelayMs: number;
  /** Gate batches at most once per gate per this many ms. @default 4 */
  mqPaceMs?: number;
  /**
   * Broker calls of the streams nobody waits on (receipts, push checks due) at most once per this many ms each.
   * @default 0
   */
  mqBackgroundPaceMs?: number;
  /**
   * Messages worked on at once (per subscription). Each one mostly waits (store, cache, bus), so
   * this bounds throughput at about concurrency / per-message latency. @default 256
   */
  concurrency?: number;
}

export interface JobDeps {
  bus: MessageBus;
  store: Store;
  cache: Cache;
  metrics: MqimMetrics;
  logger: Logger;
  /** Offline pushes; without it undelivered messages are only counted. */
  notifier?: Notifier;
  /** Observer webhooks and bots (ADR 0016), fed from the event stream; without it, none. */
  observer?: ObserverHooks;
}

/**
 * The job role: routes deliveries to the gates holding each recipient, collects delivery
 * receipts and flushes them to the store, and (with push configured) turns undelivered messages
 * into offline pushes.
 */
export class Job {
  private readonly names: MqNames;
  private readonly subs: Subscription[] = [];
  private readonly flusher: ReceiptFlusher;
  private readonly log: Logger;
  private readonly events: EventPublisher;

  constructor(
    private readonly options: JobOptions,
    private readonly deps: JobDeps,
  ) {
    this.names = new MqNames(options.topicPrefix);
    this.log = deps.logger.child({ role: 'job' });
    // Nothing waits on these (the flush is confirmed after them, pushes are best effort): paced
    // like the other background streams.
    this.events = new EventPublisher(deps.bus, this.names, deps.metrics, {
      source: 'job',
      minIntervalMs: options.mqBackgroundPaceMs ?? options.mqPaceMs ?? 4,
    });
    // One DELIVERED event per flushed (user, conversation) high-water mark: a flush of 2,000
    // receipts is one batch on the stream, whatever the message rate.
    this.flusher = new ReceiptFlusher(
      deps.cache.receipts,
      deps.store,
      this.log,
      options.receiptFlushMs,
      2000,
      (entries) =>
        this.events.publish(
          ...entries.map((e): mqim.v1.IEvent => ({
            eventId: positionEventId('dlv', e.userId, e.sessionType, e.sessionId, e.serverMsgId),
            type: mqim.v1.EventType.EVENT_TYPE_DELIVERED,
            actorUserId: e.userId,
            position: {
              reportedAtMs: e.at,
              userId: e.userId,
              sessionType: e.sessionType,
              sessionId: e.sessionId,
              msgId: e.serverMsgId,
            },
          })),
        ),
    );
  }

  async start(): Promise<void> {
    const { bus, cache, metrics, store } = this.deps;
    const gates = new GatePublisher(bus, this.names, metrics, {
      windowMs: this.options.batchWindowMs,
      tag: 'deliver',
      minIntervalMs: this.options.mqPaceMs ?? 4,
    });
    const notifier: Notifier = this.deps.notifier ?? {
      notify: () => metrics.consumed.inc({ topic: 'push', result: 'no-provider' }),
    };
    const pusher = new StoreOfflinePusher(store, notifier, metrics, this.log);
    const background = this.options.mqBackgroundPaceMs ?? 0;
    // Neither paced as a background stream nor given a longer window than the gate batches: the
    // intent's FIFO lane waits for this publish.
    const scheduler = new PushCheckScheduler(
      bus,
      this.names,
      pusher,
      metrics,
      this.options.pushCheckDelayMs,
      this.options.batchWindowMs,
    );
    const checks = new PushCheckConsumer(cache.receipts, pusher, metrics, this.log);
    const deliveries = new DeliveryConsumer(cache.routes, gates, metrics, this.log, scheduler);
    const receipts = new ReceiptConsumer(cache.receipts, store, this.log);
    const concurrency = this.options.concurrency ?? 256;
    this.subs.push(
      await bus.subscribeBatch(
        { topic: this.names.deliver, group: this.names.jobDeliverGroup, concurrency },
        (messages) => deliveries.handleBatch(messages),
      ),
      await bus.subscribe(
        {
          topic: this.names.receipt,
          group: this.names.jobReceiptGroup,
          concurrency,
          receiveIntervalMs: background,
          ackDelayMs: background,
        },
        (m) => receipts.handle(m),
      ),
      await bus.subscribe(
        {
          topic: this.names.pushCheck,
          group: this.names.jobPushGroup,
          concurrency,
          receiveIntervalMs: background,
          ackDelayMs: background,
        },
        (m) => checks.handle(m),
      ),
    );
    if (this.deps.observer) {
      const observer = this.deps.observer;
      await bus.ensureGroups([{ name: this.names.jobHooksGroup, orderly: false }]);
      this.subs.push(
        await bus.subscribe(
          {
            topic: this.names.events,
            group: this.names.jobHooksGroup,
            concurrency: 16,
            // A batch is acked once every request delivered or was dead-lettered: retries with
            // backoff may take minutes, and must not see the batch handed out again meanwhile.
            invisibleMs: 300_000,
          },
          (m) => observer.handle(m),
        ),
      );
    }
    this.flusher.start();
  }

  /**
   * A push's outcome onto the event stream (PUSH_SENT / PUSH_FAILED). Pushes are best effort and
   * not persisted (docs/push.md), so is their event: a failed publish is logged.
   */
  reportPush(n: PushNotification, report: PushReport): void {
    const event = pushOutcomeEvent(n, report);
    if (!event) return;
    this.events
      .publish(event)
      .catch((err: Error) => this.log.warn({ err: err.message, event: event.eventId }, 'push event lost'));
  }

  /** Flushes pending receipts; exposed for tests and the HTTP API's read-your-writes needs. */
  flushReceipts(): Promise<number> {
    return this.flusher.flushAll();
  }

  async stop(): Promise<void> {
    for (const s of this.subs.splice(0)) await s.close();
    await this.flusher.stop();
  }
}
