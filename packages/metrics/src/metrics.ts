import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The metric families every role shares. One registry per process; in standalone mode all roles
 * write into the same one, so /metrics shows the whole pipeline.
 */
export class MqimMetrics {
  readonly registry = new Registry();

  readonly connections = new Gauge({
    name: 'mqim_connections',
    help: 'Open client connections',
    labelNames: ['transport', 'state'] as const,
    registers: [this.registry],
  });
  readonly framesIn = new Counter({
    name: 'mqim_frames_in_total',
    help: 'Client frames received',
    labelNames: ['cmd'] as const,
    registers: [this.registry],
  });
  readonly framesOut = new Counter({
    name: 'mqim_frames_out_total',
    help: 'Frames written to clients',
    labelNames: ['cmd'] as const,
    registers: [this.registry],
  });
  readonly framesHidden = new Counter({
    name: 'mqim_frames_hidden_total',
    help: 'Frames not written to a CoffeeChat client because it would misread them (self-copies, refused acks; ADR 0012)',
    labelNames: ['cmd'] as const,
    registers: [this.registry],
  });
  readonly errors = new Counter({
    name: 'mqim_errors_total',
    help: 'Errors by mqim error code',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
  readonly published = new Counter({
    name: 'mqim_mq_published_total',
    help: 'MQ messages published',
    labelNames: ['topic'] as const,
    registers: [this.registry],
  });
  readonly publishSeconds = new Histogram({
    name: 'mqim_mq_publish_seconds',
    help: 'MQ publish latency',
    labelNames: ['topic'] as const,
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  readonly consumed = new Counter({
    name: 'mqim_mq_consumed_total',
    help: 'MQ messages handled',
    labelNames: ['topic', 'result'] as const,
    registers: [this.registry],
  });
  readonly consumeSeconds = new Histogram({
    name: 'mqim_mq_consume_seconds',
    help: 'MQ handler latency',
    labelNames: ['topic'] as const,
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  readonly deliverySeconds = new Histogram({
    name: 'mqim_delivery_seconds',
    help: 'Client frame in at a gate -> delivery frame written at a gate',
    buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2],
    registers: [this.registry],
  });
  readonly messagesStored = new Counter({
    name: 'mqim_messages_stored_total',
    help: 'Chat messages persisted',
    labelNames: ['session_type'] as const,
    registers: [this.registry],
  });

  readonly brokerCalls = new Counter({
    name: 'mqim_broker_calls_total',
    help: 'RPCs to the message broker by operation (publish, receive, ack, change_invisible, dead_letter) and topic',
    labelNames: ['op', 'topic'] as const,
    registers: [this.registry],
  });
  readonly brokerCallMessages = new Counter({
    name: 'mqim_broker_call_messages_total',
    help: 'MQ messages those broker RPCs carried (a receive or ack call carries many)',
    labelNames: ['op', 'topic'] as const,
    registers: [this.registry],
  });

  readonly transitSeconds = new Histogram({
    name: 'mqim_mq_transit_seconds',
    help: 'Time an MQ message spent between its producer and this consumer (publish pacing, broker, receive), per topic',
    labelNames: ['topic'] as const,
    buckets: [0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5],
    registers: [this.registry],
  });

  readonly consumerLag = new Gauge({
    name: 'mqim_consumer_lag',
    help: "Messages of the group's topic not consumed yet, read from the broker when the api is scraped (cluster only)",
    labelNames: ['group', 'topic'] as const,
    registers: [this.registry],
  });
  readonly deadGateEvictions = new Counter({
    name: 'mqim_dead_gate_evictions_total',
    help: 'Gates whose routes a sweeper evicted because their heartbeat had expired',
    registers: [this.registry],
  });

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }
}
