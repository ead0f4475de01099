import type { MessageBus } from '@mqim/bus';
import type { MqimMetrics } from '@mqim/metrics';
import { MqNames, mqim } from '@mqim/protocol';

interface Pending {
  commands: mqim.v1.IGateCommand[];
  bytes: number;
  waiters: { resolve(): void; reject(err: unknown): void }[];
  timer?: NodeJS.Timeout;
}

export interface GateBatcherOptions {
  /** How long to gather commands for one gate before publishing. 0 = the next macrotask. @default 2 */
  windowMs: number;
  /** Publish at once when this many commands are waiting for one gate. @default 256 */
  maxCommands?: number;
  /**
   * Publish at once when the waiting commands reach about this many bytes, well under the
   * broker's message size limit (RocketMQ: 4 MiB by default). @default 1 MiB
   */
  maxBytes?: number;
}

/** An upper estimate of a command's encoded size; exactness does not matter, the bound does. */
export function commandBytes(c: mqim.v1.IGateCommand): number {
  return (c.body?.length ?? 0) + (c.userIds?.length ?? 0) * 10 + (c.connId?.length ?? 0) + 64;
}

/**
 * Packs the commands bound for one gate over a couple of milliseconds into one MQ message: the
 * gate hop costs one broker round trip per batch instead of one per delivery. `add()` resolves
 * only when the batch holding the command is stored by the broker, so callers ack their own input
 * after their output is durable (at-least-once end to end).
 */
export class GateBatcher {
  private readonly pending = new Map<string, Pending>();
  private readonly maxCommands: number;
  private readonly maxBytes: number;

  constructor(
    private readonly bus: MessageBus,
    private readonly names: MqNames,
    private readonly metrics: MqimMetrics,
    private readonly options: GateBatcherOptions,
  ) {
    this.maxCommands = options.maxCommands ?? 256;
    this.maxBytes = options.maxBytes ?? 1 << 20;
  }

  add(gateId: string, commands: mqim.v1.IGateCommand[]): Promise<void> {
    const bytes = commands.reduce((n, c) => n + commandBytes(c), 0);
    let p = this.pending.get(gateId);
    // Whatever waits already goes out first rather than growing past the size bound.
    if (p && p.bytes + bytes > this.maxBytes) {
      this.flush(gateId);
      p = undefined;
    }
    if (!p) {
      p = { commands: [], bytes: 0, waiters: [] };
      this.pending.set(gateId, p);
    }
    p.commands.push(...commands);
    p.bytes += bytes;
    const promise = new Promise<void>((resolve, reject) => p.waiters.push({ resolve, reject }));
    if (p.commands.length >= this.maxCommands || p.bytes >= this.maxBytes) this.flush(gateId);
    else if (!p.timer) {
      p.timer =
        this.options.windowMs > 0
          ? setTimeout(() => this.flush(gateId), this.options.windowMs)
          : (setImmediate(() => this.flush(gateId)) as unknown as NodeJS.Timeout);
    }
    return promise;
  }

  private flush(gateId: string): void {
    const p = this.pending.get(gateId);
    if (!p) return;
    this.pending.delete(gateId);
    if (p.timer) clearTimeout(p.timer);
    const body = mqim.v1.GateBatch.encode({ commands: p.commands }).finish();
    const started = performance.now();
    this.bus.publish({ topic: this.names.gate(gateId), body, messageGroup: gateId, tag: 'deliver' }).then(
      () => {
        this.metrics.published.inc({ topic: 'gate' });
        this.metrics.publishSeconds.observe({ topic: 'gate' }, (performance.now() - started) / 1000);
        for (const w of p.waiters) w.resolve();
      },
      (err) => {
        for (const w of p.waiters) w.reject(err);
      },
    );
  }
}
