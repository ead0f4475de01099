import { BatchPublisher, type MessageBus } from '@mqim/bus';
import type { MqimMetrics } from '@mqim/metrics';
import { MqNames, encodeGateBatch, gateCommandBytes, type mqim } from '@mqim/protocol';

export type GateCommandInit = mqim.v1.IGateCommand;

/**
 * Sends commands (answers, login bindings, kicks) to one gate's own topic. Replies produced by
 * concurrent handlers within a millisecond share one GateBatch: at a few thousand requests a
 * second, a broker round trip per answer would be a large share of the cluster's MQ capacity.
 */
export class GateReplier {
  private readonly publisher: BatchPublisher<GateCommandInit>;

  constructor(
    bus: MessageBus,
    private readonly names: MqNames,
    metrics: MqimMetrics,
    windowMs = 1,
  ) {
    this.publisher = new BatchPublisher(bus, {
      encode: encodeGateBatch,
      sizeOf: gateCommandBytes,
      windowMs,
      onPublished: (_target, seconds) => {
        metrics.published.inc({ topic: 'gate' });
        metrics.publishSeconds.observe({ topic: 'gate' }, seconds);
      },
    });
  }

  /** Resolves when the commands are stored on the gate's topic. */
  send(gateId: string, commands: GateCommandInit[]): Promise<void> {
    // The gate topic is FIFO with a single queue; one message group keeps it simple.
    return this.publisher.add(
      { topic: this.names.gate(gateId), messageGroup: gateId, tag: 'reply' },
      commands,
    );
  }
}
