import { showProgress, log } from '../common/progress';
import { concatSamples, round, summarize, type LatencySummary } from '../common/stats';
import { LoadWorkers } from '../load/load.workers';
import type { C2cResult, ConnectResult, UserSpec, WorkerStats } from '../load/worker.protocol';
import type { C2cSystem } from './c2c.systems';
import { sampleProcesses, type ProcessUsage } from './process.sampler';

export interface C2cSessionOptions {
  users: number;
  workers: number;
  /** Connections opened at once per worker. */
  concurrency: number;
  heartbeatMs: number;
  receipts: boolean;
  payloadBytes: number;
}

export interface C2cStepFigures {
  targetRate: number;
  durationMs: number;
  sent: number;
  acked: number;
  refused: number;
  delivered: number;
  duplicates: number;
  lost: number;
  unacked: number;
  late: number;
  /** Achieved send rate (msg/s): below the target means the generator could not keep up. */
  sendRate: number;
  /** Deliveries per second, from the first send to the last delivery. */
  throughput: number;
  /** Null for systems without a sender ack (the ws relay). */
  ackMs: LatencySummary | null;
  deliveryMs: LatencySummary;
  usage: ProcessUsage;
  /** CPU of all load workers together, % of one core. */
  generatorCpuPct: number;
}

/** A system's users connected in load workers, ready to run c2c steps at any rate. */
export class C2cSession {
  private constructor(
    readonly system: C2cSystem,
    private readonly workers: LoadWorkers,
    private readonly sendersPerWorker: number[],
    private readonly options: C2cSessionOptions,
    readonly connect: ConnectResult,
  ) {}

  static async open(system: C2cSystem, options: C2cSessionOptions): Promise<C2cSession> {
    const users = await system.users(options.users - (options.users % 2));
    // Both ends of a pair in the same worker: latencies are measured on one clock.
    const perWorker: UserSpec[][] = Array.from({ length: options.workers }, () => []);
    for (let i = 0; i < users.length; i += 2)
      perWorker[(i / 2) % options.workers]!.push(users[i]!, users[i + 1]!);
    const workers = LoadWorkers.start(options.workers);
    const stop = showProgress(
      `${system.key} connect`,
      () => `open ${workers.progress().open}/${users.length}`,
    );
    let results: ConnectResult[];
    try {
      results = await workers.all<ConnectResult>((i) => ({
        op: 'connect',
        users: perWorker[i]!,
        concurrency: options.concurrency,
        heartbeatMs: options.heartbeatMs,
        timeoutMs: 30_000,
      }));
    } catch (err) {
      stop();
      await workers.close();
      throw err;
    }
    stop();
    const connect: ConnectResult = {
      connected: results.reduce((s, r) => s + r.connected, 0),
      failed: results.reduce((s, r) => s + r.failed, 0),
      ms: Math.max(...results.map((r) => r.ms)),
      errors: results.flatMap((r) => r.errors),
    };
    if (connect.failed > 0) log(`  ${connect.failed} connections failed: ${connect.errors.join('; ')}`);
    return new C2cSession(
      system,
      workers,
      perWorker.map((u) => u.length),
      options,
      connect,
    );
  }

  async step(rate: number, durationMs: number, drainMs: number): Promise<C2cStepFigures> {
    const total = this.sendersPerWorker.reduce((a, b) => a + b, 0);
    const before = this.workers.progress();
    const usage = sampleProcesses(this.system.processes);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const stop = showProgress(`${this.system.key} ${rate} msg/s`, () => {
      const p = this.workers.progress();
      return `sent ${p.sent - before.sent} acked ${p.acked - before.acked} delivered ${p.delivered - before.delivered}`;
    });
    let results: C2cResult[];
    try {
      results = await this.workers.all<C2cResult>((i) =>
        this.sendersPerWorker[i] === 0
          ? null
          : {
              op: 'c2c',
              ratePerSec: (rate * this.sendersPerWorker[i]!) / total,
              durationMs,
              drainMs,
              receipts: this.options.receipts,
              payloadBytes: this.options.payloadBytes,
            },
      );
    } finally {
      stop();
    }
    const wall = performance.now() - t0;
    const sum = (f: (r: C2cResult) => number) => results.reduce((s, r) => s + f(r), 0);
    const sendSpan = Math.max(...results.map((r) => r.sendSpanMs));
    const totalSpan = Math.max(...results.map((r) => r.totalSpanMs));
    const delivered = sum((r) => r.delivered);
    const ownCpu = process.cpuUsage(cpu0);
    return {
      targetRate: rate,
      durationMs,
      sent: sum((r) => r.sent),
      acked: sum((r) => r.acked),
      refused: sum((r) => r.refused),
      delivered,
      duplicates: sum((r) => r.duplicates),
      lost: sum((r) => r.lost),
      unacked: sum((r) => r.unacked),
      late: sum((r) => r.late),
      sendRate: round(sum((r) => r.sent) / (sendSpan / 1000), 0),
      throughput: round(delivered / (totalSpan / 1000), 0),
      ackMs:
        this.system.key === 'ws-relay' ? null : summarize(concatSamples(results.map((r) => r.ackLatencyMs))),
      deliveryMs: summarize(concatSamples(results.map((r) => r.deliveryLatencyMs))),
      usage: usage(),
      generatorCpuPct: round(
        (100 * (sum((r) => r.workerCpuMs) + (ownCpu.user + ownCpu.system) / 1000)) / wall,
        0,
      ),
    };
  }

  async close(): Promise<WorkerStats> {
    const stats = await this.workers.all<WorkerStats>(() => ({ op: 'stats' }));
    await this.workers.close();
    const merged: WorkerStats = {
      open: 0,
      closed: 0,
      heartbeatsSent: 0,
      heartbeatReplies: 0,
      errorNotices: 0,
      reasons: {},
    };
    for (const s of stats) {
      merged.open += s.open;
      merged.closed += s.closed;
      merged.heartbeatsSent += s.heartbeatsSent;
      merged.heartbeatReplies += s.heartbeatReplies;
      merged.errorNotices += s.errorNotices;
      for (const [k, v] of Object.entries(s.reasons)) merged.reasons[k] = (merged.reasons[k] ?? 0) + v;
    }
    return merged;
  }
}

/** One line per step for the console. */
export function describeStep(s: C2cStepFigures): string {
  const ack = s.ackMs ? `ack p50/p99 ${s.ackMs.p50}/${s.ackMs.p99} ms, ` : '';
  return (
    `  ${s.targetRate} msg/s → sent ${s.sendRate}/s, delivered ${s.throughput}/s, ${ack}` +
    `delivery p50/p95/p99/max ${s.deliveryMs.p50}/${s.deliveryMs.p95}/${s.deliveryMs.p99}/${s.deliveryMs.max} ms, ` +
    `refused ${s.refused}, lost ${s.lost}, unacked ${s.unacked}, dup ${s.duplicates}, ` +
    `server cpu ${JSON.stringify(s.usage.cpuPct)}%, services cpu ${JSON.stringify(s.usage.servicesCpuPct ?? {})}%, ` +
    `machine ${s.usage.machineBusyPct}%, gen ${s.generatorCpuPct}%`
  );
}
