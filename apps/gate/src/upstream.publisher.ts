import { LanePublisher, type MessageBus } from '@mqim/bus';
import type { MqimMetrics } from '@mqim/metrics';
import { UPSTREAM_BATCH_TAG, encodeUpstreamBatch, mqim, type MqNames } from '@mqim/protocol';

export interface UpstreamPublisherOptions {
  lanes: number;
  /** Upstream publishes in flight across all lanes. */
  maxInFlight: number;
  /** Requests waiting for the broker before `publish()` refuses with `PublisherBusyError`. */
  maxPending: number;
  /** Pacing of each in-flight slot (`BatchPublisherOptions.minIntervalMs`). */
  minIntervalMs: number;
}

/**
 * The gate's requests to logic (`im-upstream`): one `UpstreamBatch` per lane per broker round trip
 * (`LanePublisher`). Each request is encoded once, when the gate reads its frame; a batch splices
 * the bytes.
 */
export class UpstreamPublisher {
  private readonly lanes: LanePublisher;

  constructor(bus: MessageBus, names: MqNames, metrics: MqimMetrics, options: UpstreamPublisherOptions) {
    this.lanes = new LanePublisher(bus, metrics, {
      ...options,
      topic: names.upstream,
      tag: UPSTREAM_BATCH_TAG,
      encode: encodeUpstreamBatch,
    });
  }

  /** Requests accepted and not yet stored by the broker. */
  get pending(): number {
    return this.lanes.pending;
  }

  /** Resolves when the batch holding the request is stored; rejects `PublisherBusyError` at once when full. */
  publish(request: mqim.v1.IUpstreamRequest & { orderKey: string }): Promise<void> {
    return this.lanes.publish(mqim.v1.UpstreamRequest.encode(request).finish(), request.orderKey);
  }

  flushAll(): Promise<void> {
    return this.lanes.flushAll();
  }
}
