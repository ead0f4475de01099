import { cpuMs, machineCpuTicks, rssBytes, servicePids } from '../common/proc-stats';

export interface ProcessUsage {
  /** CPU over the interval, in % of one core, per role. */
  cpuPct: Record<string, number>;
  /** RSS at the end of the interval, MiB, per role. */
  rssMiB: Record<string, number>;
  /** The whole machine's busy share over the interval, % of all cores (contention indicator). */
  machineBusyPct: number;
  /** CPU of the shared services (RocketMQ JVM, MariaDB, Redis) over the interval, % of one core. */
  servicesCpuPct?: Record<string, number>;
}

/** CPU and RSS of the processes under test between `start()` and the returned `stop()`. */
export function sampleProcesses(processes: { role: string; pid: number }[]): () => ProcessUsage {
  const t0 = performance.now();
  const cpu0 = processes.map((p) => safe(() => cpuMs(p.pid)));
  const services = servicePids();
  const svc0 = services.map((p) => safe(() => cpuMs(p.pid)));
  const m0 = machineCpuTicks();
  return () => {
    const wall = performance.now() - t0;
    const m1 = machineCpuTicks();
    const usage: ProcessUsage = {
      cpuPct: {},
      rssMiB: {},
      machineBusyPct: Math.round((100 * (m1.busy - m0.busy)) / Math.max(1, m1.total - m0.total)),
      servicesCpuPct: {},
    };
    services.forEach((p, i) => {
      usage.servicesCpuPct![p.role] = Math.round((100 * (safe(() => cpuMs(p.pid)) - svc0[i]!)) / wall);
    });
    processes.forEach((p, i) => {
      usage.cpuPct[p.role] = Math.round((100 * (safe(() => cpuMs(p.pid)) - cpu0[i]!)) / wall);
      usage.rssMiB[p.role] = Math.round(safe(() => rssBytes(p.pid)) / 1048576);
    });
    return usage;
  };
}

// A process that died mid-run reads as 0 rather than aborting the whole benchmark; the
// scenario's loss figures will say what happened.
function safe(read: () => number): number {
  try {
    return read();
  } catch {
    return 0;
  }
}

/**
 * Waits until the processes together use less than `belowPct` of a core for two consecutive
 * seconds, at most `maxMs`: a long-lived target must finish the backlog of one scenario before
 * the next one measures. Resolves with how long it waited and whether it got quiet.
 */
export async function waitUntilQuiet(
  processes: { pid: number }[],
  options: { belowPct?: number; maxMs?: number } = {},
): Promise<{ waitedMs: number; quiet: boolean }> {
  const below = options.belowPct ?? 15;
  const deadline = performance.now() + (options.maxMs ?? 60_000);
  const t0 = performance.now();
  let calm = 0;
  let last = processes.reduce((s, p) => s + safe(() => cpuMs(p.pid)), 0);
  while (performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, 1000));
    const now = processes.reduce((s, p) => s + safe(() => cpuMs(p.pid)), 0);
    calm = (now - last) / 10 < below ? calm + 1 : 0;
    last = now;
    if (calm >= 2) return { waitedMs: performance.now() - t0, quiet: true };
  }
  return { waitedMs: performance.now() - t0, quiet: false };
}
