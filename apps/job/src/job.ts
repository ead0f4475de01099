import { GatePublisher, type MessageBus, type Subscription } from '@mqim/bus';
import type { Cache } from '@mqim/cache';
import type { Logger } from '@mqim/config';
import type { MqimMetrics } from '@mqim/metrics';
import { MqNames } from '@mqim/protocol';
import type { Store } from '@mqim/store';
import { DeliveryConsumer } from './delivery.consumer';
import { StoreOfflinePusher, type Notifier } from './offline.pusher';
import { PushCheckConsumer, PushCheckScheduler } from './push-check';
import { ReceiptConsumer } from './receipt.consumer';
import { ReceiptFlusher } from './receipt.flusher';

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

  constructor(
    private readonly options: JobOptions,
    private readonly deps: JobDeps,
  ) {
    this.names = new MqNames(options.topicPrefix);
    this.log = deps.logger.child({ role: 'job' });
    this.flusher = new ReceiptFlusher(deps.cache.receipts, deps.store, this.log, options.receiptFlushMs);
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
    this.flusher.start();
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
