import { BatchPublisher, publishMetrics, type MessageBus } from '@mqim/bus';
import type { MqimMetrics } from '@mqim/metrics';
import { INTENT_BATCH_TAG, encodeIntentBatch, laneGroup, laneOf, mqim, type MqNames } from '@mqim/protocol';

export interface IntentPublisherOptions {
  lanes: number;
  /** Intent publishes in flight across all lanes. */
  maxInFlight: number;
  /** Pacing of each in-flight slot (`BatchPublisherOptions.minIntervalMs`). */
  minIntervalMs: number;
}

/**
 * Delivery intents to the job (`im-deliver`): one `DeliveryIntentBatch` per lane per broker round
 * trip, lanes keyed like the upstream ones, so one conversation's intents share a FIFO message
 * group and reach the job in the order logic produced them. `publish()` resolves when the batch
 * holding the intent is stored: the upstream request is acked only after that.
 */
export class IntentPublisher {
  private readonly batches: BatchPublisher<Uint8Array>;
  private readonly groups: string[];

  constructor(
    bus: MessageBus,
    private readonly names: MqNames,
    metrics: MqimMetrics,
    private readonly options: IntentPublisherOptions,
  ) {
    this.groups = Array.from({ length: options.lanes }, (_, i) => laneGroup(i));
    this.batches = new BatchPublisher(bus, {
      encode: encodeIntentBatch,
      sizeOf: (bytes) => bytes.length + 4,
      windowMs: 0,
      maxInFlight: options.maxInFlight,
      minIntervalMs: options.minIntervalMs,
      onPublished: publishMetrics(metrics),
    });
  }

  /** `orderKey`: the conversation the intent belongs to. */
  publish(intent: mqim.v1.IDeliveryIntent, orderKey: string): Promise<void> {
    const bytes = mqim.v1.DeliveryIntent.encode({ ...intent, orderKey }).finish();
    const group = this.groups[laneOf(orderKey, this.options.lanes)]!;
    return this.batches.add({ topic: this.names.deliver, messageGroup: group, tag: INTENT_BATCH_TAG }, [
      bytes,
    ]);
  }
}
