import type { MessageBus } from '@mqim/bus';
import type { MqimMetrics } from '@mqim/metrics';
import { MqNames, mqim } from '@mqim/protocol';

export type GateCommandInit = mqim.v1.IGateCommand;

/**
 * Sends commands to one gate's own topic. Every command travels inside a GateBatch so a gate has
 * one payload shape to read, whether a logic reply or a job's batch of deliveries.
 */
export class GateReplier {
  constructor(
    private readonly bus: MessageBus,
    private readonly names: MqNames,
    private readonly metrics: MqimMetrics,
  ) {}

  async send(gateId: string, commands: GateCommandInit[]): Promise<void> {
    const topic = this.names.gate(gateId);
    const body = mqim.v1.GateBatch.encode({ commands }).finish();
    const started = performance.now();
    // The gate topic is FIFO with a single queue; one message group keeps it simple.
    await this.bus.publish({ topic, body, messageGroup: gateId, tag: 'reply' });
    this.metrics.published.inc({ topic: 'gate' });
    this.metrics.publishSeconds.observe({ topic: 'gate' }, (performance.now() - started) / 1000);
  }
}
