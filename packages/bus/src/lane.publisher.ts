import type { MqimMetrics } from '@mqim/metrics';
import { laneGroup, laneOf } from '@mqim/protocol';
import { BatchPublisher, publishMetrics } from './batch.publisher';
import type { MessageBus } from './message-bus.port';

export interface LanePublisherOptions {
  topic: string;
  /** Tag of every batch (the consumer decodes a body by it). */
  tag: string;
  /** Splices items encoded one by one into one batch body. */
  encode(items: readonly Uint8Array[]): Uint8Array;
  lanes: number;
  /** Publishes in flight across all lanes. */
  maxInFlight: number;
  /** Items waiting for the broker before `publish()` refuses with `PublisherBusyError`. @default Infinity */
  maxPending?: number;
  /** Pacing of each in-flight slot (`BatchPublisherOptions.minIntervalMs`). */
  minIntervalMs: number;
  /**
   * After a failed publish, refuse items of the conversations it carried until `resume()`
   * (`BatchPublisherOptions.streamOf`): for a producer that does not wait for one item of a
   * conversation before publishing the next. @default false
   */
  holdAfterFailure?: boolean;
}

interface LaneItem {
  bytes: Uint8Array;
  orderKey: string;
}

/**
 * An ordered hop (`im-upstream`, `im-deliver`): one batch per lane per broker round trip. An
 * item's lane comes from its order key (the conversation), so one conversation always shares one
 * FIFO message group and arrives in order; a lane has one publish in flight and the process at
 * most `maxInFlight`, so the number of broker calls follows the round trip, not the message rate.
 * `publish()` resolves when the batch holding the item is stored.
 */
export class LanePublisher {
  private readonly batches: BatchPublisher<LaneItem>;
  private readonly groups: string[];

  constructor(
    bus: MessageBus,
    metrics: MqimMetrics,
    private readonly options: LanePublisherOptions,
  ) {
    this.groups = Array.from({ length: options.lanes }, (_, i) => laneGroup(i));
    this.batches = new BatchPublisher<LaneItem>(bus, {
      encode: (items) => options.encode(items.map((i) => i.bytes)),
      sizeOf: (item) => item.bytes.length + 4,
      // With nothing in flight an item leaves at the end of this macrotask: no idle window.
      windowMs: 0,
      maxInFlight: options.maxInFlight,
      maxPending: options.maxPending,
      minIntervalMs: options.minIntervalMs,
      streamOf: options.holdAfterFailure ? (item) => item.orderKey : undefined,
      onPublished: publishMetrics(metrics),
    });
  }

  /** Items accepted and not yet stored by the broker. */
  get pending(): number {
    return this.batches.pending;
  }

  publish(encoded: Uint8Array, orderKey: string): Promise<void> {
    const group = this.groups[laneOf(orderKey, this.options.lanes)]!;
    return this.batches.add({ topic: this.options.topic, messageGroup: group, tag: this.options.tag }, [
      { bytes: encoded, orderKey },
    ]);
  }

  /** The conversations a failed publish (as `publish()` rejected with it) held. */
  heldBy(err: unknown): readonly string[] {
    return this.batches.streamsHeldBy(err);
  }

  /** These conversations, held after a failed publish, take items again. */
  resume(orderKeys: Iterable<string>): void {
    this.batches.resume(orderKeys);
  }

  flushAll(): Promise<void> {
    return this.batches.flushAll();
  }
}
