import { BatchPublisher, type MessageBus } from '@mqim/bus';
import type { MqimMetrics } from '@mqim/metrics';
import { MqNames, encodeGateBatch, gateCommandBytes, type mqim } from '@mqim/protocol';

export interface GateBatcherOptions {
  /** How long to gather commands for one gate before publishing. 0 = the next macrotask. @default 2 */
  windowMs: number;
  /** Publish at once when this many commands are waiting for one gate. @default 256 */
  maxCommands?: number;
  /** Publish at once when the waiting commands reach about this many bytes. @default 1 MiB */
  maxBytes?: number;
}

/**
 * Packs the commands bound for one gate over a couple of milliseconds into one GateBatch on the
 * gate's own topic. `add()` resolves only when the batch holding the commands is stored, so
 * callers ack their own input after their output is durable (at-least-once end to end).
 */
export class GateBatcher {
  private readonly publisher: BatchPublisher<mqim.v1.IGateCommand>;

  constructor(
    bus: MessageBus,
    private readonly names: MqNames,
    metrics: MqimMetrics,
    options: GateBatcherOptions,
  ) {
    this.publisher = new BatchPublisher(bus, {
      encode: encodeGateBatch,
      sizeOf: gateCommandBytes,
      windowMs: options.windowMs,
      maxItems: options.maxCommands,
      maxBytes: options.maxBytes,
      onPublished: (_target, seconds) => {
        metrics.published.inc({ topic: 'gate' });
        metrics.publishSeconds.observe({ topic: 'gate' }, seconds);
      },
    });
  }

  add(gateId: string, commands: readonly mqim.v1.IGateCommand[]): Promise<void> {
    // The gate topic is FIFO with a single queue; one message group per gate keeps it in order.
    return this.publisher.add(
      { topic: this.names.gate(gateId), messageGroup: gateId, tag: 'deliver' },
      commands,
    );
  }
}
