import type { MqimMetrics } from '@mqim/metrics';
import { eventFamily, type MqNames, mqim } from '@mqim/protocol';
import { BatchPublisher, publishMetrics } from './batch.publisher';
import type { MessageBus } from './message-bus.port';

export interface EventPublisherOptions {
  /** Who publishes (`logic`, `job`, `gate:<id>`): `Event.source`. */
  source: string;
  /** How long to gather events of one family. @default 1 */
  windowMs?: number;
  /** At most one batch per family per this many ms (see `BatchPublisherOptions.minIntervalMs`). @default 0 */
  minIntervalMs?: number;
}

/**
 * The domain event stream (`<prefix>-events`): events travel as `EventBatch`es, one per family
 * (the tag) per broker round trip — never one MQ message per event: under load a batch grows
 * with the broker's round trip, so the stream adds at most one publish per family per interval,
 * not one per message. `publish()` resolves when the batch holding the events is stored: callers
 * publish after their effect is durable and ack their input only after that (at least once).
 */
export class EventPublisher {
  private readonly batches: BatchPublisher<mqim.v1.IEvent>;

  constructor(
    bus: MessageBus,
    private readonly names: MqNames,
    metrics: MqimMetrics,
    private readonly options: EventPublisherOptions,
  ) {
    this.batches = new BatchPublisher(bus, {
      encode: (events) => mqim.v1.EventBatch.encode({ events: [...events] }).finish(),
      // Ids and scalars; the largest detail (a group change) carries at most the ids it lists.
      sizeOf: (e) => 160 + (e.eventId?.length ?? 0) + 10 * (e.group?.userIds?.length ?? 0),
      windowMs: options.windowMs ?? 1,
      minIntervalMs: options.minIntervalMs ?? 0,
      onPublished: publishMetrics(metrics),
    });
  }

  /** Stamps `source` and `at_ms` (when unset) and publishes; events of one call may span families. */
  publish(...events: mqim.v1.IEvent[]): Promise<void> {
    if (events.length === 0) return Promise.resolve();
    const now = Date.now();
    const byFamily = new Map<string, mqim.v1.IEvent[]>();
    for (const e of events) {
      const stamped = { ...e, source: this.options.source, atMs: e.atMs || now };
      const family = eventFamily(e.type ?? mqim.v1.EventType.EVENT_TYPE_UNSPECIFIED);
      const list = byFamily.get(family);
      if (list) list.push(stamped);
      else byFamily.set(family, [stamped]);
    }
    return Promise.all(
      Array.from(byFamily, ([tag, list]) => this.batches.add({ topic: this.names.events, tag }, list)),
    ).then(() => undefined);
  }

  /** Publishes everything waiting now (shutdown). */
  flushAll(): Promise<void> {
    return this.batches.flushAll();
  }
}
