import { BatchPublisher, publishMetrics, type MessageBus } from '@mqim/bus';
import type { MqimMetrics } from '@mqim/metrics';
import {
  UPSTREAM_BATCH_TAG,
  encodeUpstreamBatch,
  laneGroup,
  laneOf,
  mqim,
  type MqNames,
} from '@mqim/protocol';

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
 * The gate's requests to logic (`im-upstream`): one `UpstreamBatch` per lane per broker round
 * trip. A request's lane comes from its order key (the conversation for sends and read acks), so
 * one conversation always shares one FIFO message group and its requests arrive in order; a lane
 * has one publish in flight and the gate at most `maxInFlight`, so the number of broker calls
 * follows the round trip, not the message rate. Each request is encoded once; a batch splices
 * the bytes.
 */
export class UpstreamPublisher {
  private readonly batches: BatchPublisher<Uint8Array>;
  private readonly groups: string[];

  constructor(
    bus: MessageBus,
    private readonly names: MqNames,
    metrics: MqimMetrics,
    private readonly options: UpstreamPublisherOptions,
  ) {
    this.groups = Array.from({ length: options.lanes }, (_, i) => laneGroup(i));
    this.batches = new BatchPublisher(bus, {
      encode: encodeUpstreamBatch,
      sizeOf: (bytes) => bytes.length + 4,
      // With nothing in flight a request leaves at the end of this macrotask: no idle window.
      windowMs: 0,
      maxInFlight: options.maxInFlight,
      maxPending: options.maxPending,
      minIntervalMs: options.minIntervalMs,
      onPublished: publishMetrics(metrics),
    });
  }

  /** Requests accepted and not yet stored by the broker. */
  get pending(): number {
    return this.batches.pending;
  }

  /** Resolves when the batch holding the request is stored; rejects `PublisherBusyError` at once when full. */
  publish(request: mqim.v1.IUpstreamRequest & { orderKey: string }): Promise<void> {
    const bytes = mqim.v1.UpstreamRequest.encode(request).finish();
    const group = this.groups[laneOf(request.orderKey, this.options.lanes)]!;
    return this.batches.add({ topic: this.names.upstream, messageGroup: group, tag: UPSTREAM_BATCH_TAG }, [
      bytes,
    ]);
  }

  flushAll(): Promise<void> {
    return this.batches.flushAll();
  }
}
