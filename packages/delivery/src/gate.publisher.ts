import { BatchPublisher, publishMetrics, type MessageBus } from '@mqim/bus';
import type { MqimMetrics } from '@mqim/metrics';
import { MqNames, encodeGateBatch, type mqim } from '@mqim/protocol';
import { gateCommandBytes } from './gate-command.size';

export interface GatePublisherOptions {
  /** How long to gather commands for one gate. 0 = until the current macrotask ends. */
  windowMs: number;
  /** Tag of the published GateBatch messages (who sent them: `reply`, `deliver`). */
  tag: string;
  /** Publish at once when this many commands wait for one gate. @default 256 */
  maxCommands?: number;
  /** Publish at once when the waiting commands reach about this many bytes. @default 1 MiB */
  maxBytes?: number;
  /** At most one GateBatch per gate per this many ms (see `BatchPublisherOptions.minIntervalMs`). @default 0 */
  minIntervalMs?: number;
}

/**
 * Sends commands to gates' own topics (`im-gate-<id>`, FIFO, one queue): the commands bound for
 * one gate within the window travel in one GateBatch. Logic sends its answers through one, the
 * job its deliveries. `send()` resolves only when the batch holding the commands is stored, so
 * callers ack their own input after their output is durable (at-least-once end to end).
 */
export class GatePublisher {
  private readonly publisher: BatchPublisher<mqim.v1.IGateCommand>;

  constructor(
    bus: MessageBus,
    private readonly names: MqNames,
    metrics: MqimMetrics,
    private readonly options: GatePublisherOptions,
  ) {
    this.publisher = new BatchPublisher(bus, {
      encode: encodeGateBatch,
      sizeOf: gateCommandBytes,
      windowMs: options.windowMs,
      maxItems: options.maxCommands,
      maxBytes: options.maxBytes,
      minIntervalMs: options.minIntervalMs,
      onPublished: publishMetrics(metrics, 'gate'),
    });
  }

  send(gateId: string, commands: readonly mqim.v1.IGateCommand[]): Promise<void> {
    // One message group per gate: the topic's single queue keeps one total order.
    return this.publisher.add(
      { topic: this.names.gate(gateId), messageGroup: gateId, tag: this.options.tag },
      commands,
    );
  }
}
