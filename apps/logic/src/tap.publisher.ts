import { BatchPublisher, publishMetrics, type MessageBus } from '@mqim/bus';
import type { MqimMetrics } from '@mqim/metrics';
import { type MqNames, mqim, SessionType } from '@mqim/protocol';

/**
 * The analytics tap (`im-persisted`): stored messages travel as `PersistedMessageBatch`es, one
 * per tag (`single`, `group`) per broker round trip, not one MQ message each — the tap was a
 * third of the per-message publishes of a chat message. `publish()` resolves when the batch
 * holding the record is stored, so the request is acked only after its tap record is durable.
 */
export class TapPublisher {
  private readonly batches: BatchPublisher<mqim.v1.IPersistedMessage>;

  constructor(
    bus: MessageBus,
    private readonly names: MqNames,
    metrics: MqimMetrics,
    windowMs = 1,
    minIntervalMs = 0,
  ) {
    this.batches = new BatchPublisher(bus, {
      encode: (messages) => mqim.v1.PersistedMessageBatch.encode({ messages: [...messages] }).finish(),
      // Eleven scalar fields plus the client id (at most 64 bytes).
      sizeOf: (m) => 80 + (m.clientMsgId?.length ?? 0),
      windowMs,
      minIntervalMs,
      onPublished: publishMetrics(metrics),
    });
  }

  publish(record: mqim.v1.IPersistedMessage): Promise<void> {
    const tag = record.sessionType === SessionType.GROUP ? 'group' : 'single';
    return this.batches.add({ topic: this.names.persisted, tag }, [record]);
  }
}
