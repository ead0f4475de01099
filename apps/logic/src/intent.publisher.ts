import { LanePublisher, type MessageBus } from '@mqim/bus';
import type { MqimMetrics } from '@mqim/metrics';
import { INTENT_BATCH_TAG, encodeIntentBatch, mqim, type MqNames } from '@mqim/protocol';

export interface IntentPublisherOptions {
  lanes: number;
  /** Intent publishes in flight across all lanes. */
  maxInFlight: number;
  /** Pacing of each in-flight slot (`BatchPublisherOptions.minIntervalMs`). */
  minIntervalMs: number;
}

/**
 * Delivery intents to the job (`im-deliver`): one `DeliveryIntentBatch` per lane per broker round
 * trip (`LanePublisher`), lanes keyed like the upstream ones, so one conversation's intents reach
 * the job in the order logic produced them. `publish()` resolves when the batch holding the intent
 * is stored: the upstream request is acked only after that.
 */
export class IntentPublisher {
  private readonly lanes: LanePublisher;

  constructor(bus: MessageBus, names: MqNames, metrics: MqimMetrics, options: IntentPublisherOptions) {
    this.lanes = new LanePublisher(bus, metrics, {
      ...options,
      topic: names.deliver,
      tag: INTENT_BATCH_TAG,
      encode: encodeIntentBatch,
      // Logic publishes a conversation's intents without waiting for each (pipelined sends).
      holdAfterFailure: true,
    });
  }

  /**
   * After a failed publish, the conversations it carried are refused (nothing of theirs may
   * overtake the failed intent) until the upstream messages that saw the failure are handled
   * (they come back and resend from the failed request on) or, for an intent published under
   * another conversation's key, the hold times out (`BatchPublisherOptions.holdMs`).
   */
  resume(orderKeys: Iterable<string>): void {
    this.lanes.resume(orderKeys);
  }

  /** The conversations a failed publish held (see `resume`), given the error it failed with. */
  heldBy(err: unknown): readonly string[] {
    return this.lanes.heldBy(err);
  }

  /** `orderKey`: the conversation the intent belongs to. */
  publish(intent: mqim.v1.IDeliveryIntent, orderKey: string): Promise<void> {
    return this.lanes.publish(mqim.v1.DeliveryIntent.encode({ ...intent, orderKey }).finish(), orderKey);
  }
}
