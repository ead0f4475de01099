import { sleep } from '../common/clock';
import { cpuMs, openFilesLimit, rssBytes } from '../common/proc-stats';
import { log, showProgress } from '../common/progress';
import { round } from '../common/stats';
import { LoadWorkers } from '../load/load.workers';
import type { ConnectResult, UserSpec, WorkerStats } from '../load/worker.protocol';
import { gateEndpoint } from '../targets/mqim.target';
import { registerUsers } from '../targets/users.provisioner';
import type { BenchContext, ScenarioOutcome } from './bench.context';

// Descriptors a gate needs besides client sockets (listeners, SQLite, epoll, stdio, …).
const FD_RESERVE = 500;
// Per load worker: its own fd limit is the same as ours; leave room for IPC and tsx.
const PER_WORKER_MAX = 15_000;
const SOURCE_ADDRESSES = 16;

/**
 * Many logged-in idle connections on one gate, TCP first then WS: server RSS per connection
 * (VmRSS before and after each batch), then the CPU the gate spends over an idle window while
 * every client heartbeats every 30 s (random phase), minus the idle server's own baseline.
 */
export async function runIdle(ctx: BenchContext): Promise<ScenarioOutcome> {
  const p = ctx.plan.idle;
  const notes: string[] = [];
  // RSS deltas mean nothing on a process still returning memory from earlier scenarios.
  const target = await ctx.startMqim('idle', { fresh: true });
  let workers: LoadWorkers | undefined;
  try {
    const gate = target.gates[0]!;
    // Standalone: the one process; cluster: the first gate's process.
    const pid = (target.processes.find((x) => x.role.startsWith('gate')) ?? target.processes[0]!).pid;
    const wanted = ctx.args.idleConnections ?? p.connections;
    const fdCap = openFilesLimit(pid) - FD_RESERVE;
    const total = Math.min(wanted, fdCap);
    if (total < wanted)
      notes.push(
        `asked for ${wanted} idle connections, capped at ${total}: the server's open-files limit is ` +
          `${fdCap + FD_RESERVE} (ulimit -n; this environment cannot raise it)`,
      );
    const half = Math.floor(total / 2);

    let registered = 0;
    const stopReg = showProgress('idle register', () => `${registered}/${total} users`);
    const users = await registerUsers(target.api, total, {
      concurrency: 64,
      onProgress: (n) => (registered = n),
    });
    stopReg();

    const workerCount = Math.max(p.workers, Math.ceil(total / PER_WORKER_MAX));
    workers = LoadWorkers.start(workerCount);
    const w = workers;

    await sleep(p.settleMs);
    const baseCpu0 = cpuMs(pid);
    await sleep(p.baselineMs);
    const baselineCpuPct = (100 * (cpuMs(pid) - baseCpu0)) / p.baselineMs;
    const rssBase = rssBytes(pid);

    const batch = async (transport: 'tcp' | 'ws', from: number, count: number) => {
      const specs: UserSpec[] = users.slice(from, from + count).map((u, i) => ({
        ...u,
        peerId: 0,
        endpoint: gateEndpoint(gate, transport),
        localAddress: `127.0.0.${2 + ((from + i) % SOURCE_ADDRESSES)}`,
      }));
      const per: UserSpec[][] = Array.from({ length: workerCount }, () => []);
      specs.forEach((u, i) => per[i % workerCount]!.push(u));
      const before = w.progress().open;
      const stop = showProgress(`idle ${transport}`, () => `open ${w.progress().open - before}/${count}`);
      const results = await w.all<ConnectResult>((i) => ({
        op: 'connect',
        users: per[i]!,
        concurrency: p.concurrency,
        heartbeatMs: p.heartbeatMs,
        timeoutMs: 60_000,
      }));
      stop();
      const ok = results.reduce((s, r) => s + r.connected, 0);
      const errors = results.flatMap((r) => r.errors);
      if (ok < count)
        notes.push(`${transport}: ${count - ok} of ${count} failed to log in: ${errors.join('; ')}`);
      await sleep(p.settleMs);
      return { connected: ok, ms: round(Math.max(...results.map((r) => r.ms)), 0) };
    };

    const tcp = await batch('tcp', 0, half);
    const rssTcp = rssBytes(pid);
    const ws = await batch('ws', half, total - half);
    const rssWs = rssBytes(pid);
    const perConn = (delta: number, n: number) => (n > 0 ? Math.round(delta / n) : 0);
    if (rssTcp < rssBase || rssWs < rssTcp)
      notes.push(
        'RSS fell while connections were added (the process returned memory): per-connection figures unreliable',
      );
    log(
      `  RSS ${mib(rssBase)} → ${mib(rssTcp)} (+${tcp.connected} TCP) → ${mib(rssWs)} MiB (+${ws.connected} WS): ` +
        `${perConn(rssTcp - rssBase, tcp.connected)} B/TCP, ${perConn(rssWs - rssTcp, ws.connected)} B/WS`,
    );

    const statsBefore = await w.all<WorkerStats>(() => ({ op: 'stats' }));
    const cpu0 = cpuMs(pid);
    const stop = showProgress('idle window', () => `${w.progress().open} connections open`);
    await sleep(p.windowMs);
    stop();
    const windowCpuMs = cpuMs(pid) - cpu0;
    const statsAfter = await w.all<WorkerStats>(() => ({ op: 'stats' }));
    const rssEnd = rssBytes(pid);
    const sum = (list: WorkerStats[], f: (s: WorkerStats) => number) => list.reduce((s, x) => s + f(x), 0);
    const heartbeats =
      sum(statsAfter, (s) => s.heartbeatReplies) - sum(statsBefore, (s) => s.heartbeatReplies);
    const closed = sum(statsAfter, (s) => s.closed);
    if (closed > 0) notes.push(`${closed} idle connections were closed during the run`);
    const heartbeatCpuMs = windowCpuMs - (baselineCpuPct / 100) * p.windowMs;
    const figures = {
      requested: wanted,
      connections: tcp.connected + ws.connected,
      rssBaselineBytes: rssBase,
      tcp: { ...tcp, rssAfterBytes: rssTcp, bytesPerConnection: perConn(rssTcp - rssBase, tcp.connected) },
      ws: { ...ws, rssAfterBytes: rssWs, bytesPerConnection: perConn(rssWs - rssTcp, ws.connected) },
      bytesPerConnection: perConn(rssWs - rssBase, tcp.connected + ws.connected),
      rssAfterWindowBytes: rssEnd,
      idleWindowMs: p.windowMs,
      heartbeatIntervalMs: p.heartbeatMs,
      heartbeatsAnswered: heartbeats,
      serverCpuMsInWindow: round(windowCpuMs, 0),
      baselineCpuPct: round(baselineCpuPct, 2),
      heartbeatCpuPct: round((100 * heartbeatCpuMs) / p.windowMs, 2),
      cpuUsPerHeartbeat: heartbeats > 0 ? round((1000 * heartbeatCpuMs) / heartbeats, 1) : null,
      closedDuringRun: closed,
    };
    log(
      `  idle ${p.windowMs / 1000} s: ${heartbeats} heartbeats, server CPU ${figures.serverCpuMsInWindow} ms ` +
        `(baseline ${figures.baselineCpuPct} %), ${figures.cpuUsPerHeartbeat} µs per heartbeat`,
    );
    return { figures, notes };
  } finally {
    await workers?.close();
    await target.stop();
  }
}

const mib = (b: number) => (b / 1048576).toFixed(1);
