import type { C2cStepFigures } from '../scenarios/c2c.session';
import { kb } from './report.goals';
import type { ScenarioRecord } from './results.store';
import type { FanoutFigures, IdleFigures, RampFigures, RmqFigures, SteadyFigures } from './report.types';

const n = (v: number) => Math.round(v).toLocaleString('en-US');
const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);
const ORDER = ['mqim', 'socketio', 'ws-relay'];

export function sectionHeader(title: string, r: ScenarioRecord): string[] {
  const la = `${r.contention.loadAverageBefore[0]} → ${r.contention.loadAverageAfter[0]}`;
  const m = r.machine;
  // Older records carry neither field.
  const runtime =
    r.target === 'cluster' && m.roleNode && m.roleNode !== m.node ? `, roles on Node ${m.roleNode}` : '';
  const overrides = Object.entries(m.mqimEnv ?? {})
    .filter(([k]) => k !== 'MQIM_NODE') // shown as the roles' Node
    .map(([k, v]) => `${k}=${v}`);
  const env = overrides.length ? `, with ${overrides.join(' ')}` : '';
  return [
    `### ${title}`,
    '',
    `Run \`${r.run}\` (${r.mode}), \`${r.command}\`${runtime}${env}, commit ${m.gitCommit.slice(0, 10)}, ` +
      `1-min load average ${la}.`,
    '',
  ];
}

function notes(r: ScenarioRecord): string[] {
  return r.notes.length ? ['', ...r.notes.map((x) => `- ${x}`), ''] : [''];
}

export function steadySection(r: ScenarioRecord): string[] {
  const f = r.figures as unknown as SteadyFigures;
  if (!f.systems) return [...sectionHeader('c2c steady', r), 'No figures.', ...notes(r)];
  const out = [
    ...sectionHeader('c2c steady', r),
    `${n(f.users)} users in pairs (${f.transport} transport${f.receipts ? ', receivers send 0x0302 receipts' : ''}, ` +
      `${f.payloadBytes}-byte payload), ${n(f.rate)} msg/s in total for ${f.durationMs / 1000} s.`,
    '',
    '| system | sent/s | delivered/s | ack p50 / p99 ms | delivery p50 / p95 / p99 / max ms | undelivered¹ | dup | unacked | refused³ | server CPU % | server RSS MiB | generator CPU % | services CPU %² | machine busy % |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |',
  ];
  for (const key of ORDER) {
    const e = f.systems[key];
    if (!e) continue;
    const s = e.result;
    const ack = !s.ackMs ? 'no ack' : s.ackMs.n === 0 ? 'none acked' : `${s.ackMs.p50} / ${s.ackMs.p99}`;
    const d = s.deliveryMs;
    const delivery = d.n === 0 ? 'none delivered' : `${d.p50} / ${d.p95} / ${d.p99} / ${d.max}`;
    out.push(
      `| ${e.label} | ${n(s.sendRate)} | ${n(s.throughput)} | ${ack} | ` +
        `${delivery} | ${s.lost} | ${s.duplicates} | ${s.unacked} | ${s.refused ?? '—'} | ` +
        `${sum(s.usage.cpuPct)} | ${sum(s.usage.rssMiB)} | ${s.generatorCpuPct} | ${services(s.usage)} | ` +
        `${s.usage.machineBusyPct} |`,
    );
  }
  out.push(
    '',
    `¹ acked (ws relay: sent) but not delivered within ${f.drainMs / 1000} s after the last send: lost, or still queued ` +
      'in an overloaded system; either way not delivered in time. Must be 0 when the rate is held.',
    '',
    '² CPU of the shared services the run leans on (RocketMQ broker+proxy JVM, name server, MariaDB, ' +
      'Redis), % of one core; `—` in records that predate it.',
    '',
    '³ sends answered with a refusal (e.g. `IM_ERR_BUSY` under overload): the sender was told to retry; ' +
      'not counted as sent-and-lost.',
  );
  return [...out, ...closeNotes(f.systems), ...notes(r)];
}

function closeNotes(
  systems: Record<string, { label: string; closes?: { closed: number; reasons: Record<string, number> } }>,
): string[] {
  const out: string[] = [];
  for (const e of Object.values(systems)) {
    if (!e.closes || e.closes.closed === 0) continue;
    const reasons = Object.entries(e.closes.reasons)
      .map(([k, v]) => `${v}× ${k}`)
      .join('; ');
    out.push(`- ${e.label}: ${e.closes.closed} connections closed during the run (${reasons})`);
  }
  return out.length ? ['', ...out] : [];
}

export function rampSection(r: ScenarioRecord, chart?: string): string[] {
  const f = r.figures as unknown as RampFigures;
  if (!f.systems) return [...sectionHeader('c2c ramp', r), 'No figures.', ...notes(r)];
  const keys = ORDER.filter((k) => f.systems[k]);
  const out = [
    ...sectionHeader('c2c ramp', r),
    `${n(f.users)} users in pairs; each step ${f.stepMs / 1000} s, stopping at the first step whose p99 delivery ` +
      `passes ${f.p99LimitMs} ms (or that loses, duplicates or falls behind the rate).`,
    '',
    '| system | highest rate held | stopped by |',
    '| --- | ---: | --- |',
    ...keys.map((k) => {
      const e = f.systems[k]!;
      return `| ${e.label} | ${n(e.result.highestHeld)} msg/s | ${e.result.stoppedBy} |`;
    }),
    '',
    `| target msg/s | ${keys.map((k) => `${f.systems[k]!.label}: delivered/s, p99 ms`).join(' | ')} |`,
    `| ---: | ${keys.map(() => '---:').join(' | ')} |`,
  ];
  for (const rate of f.rates) {
    const cells = keys.map((k) => {
      const s = f.systems[k]!.result.steps.find((x) => x.targetRate === rate);
      if (!s) return '';
      const p99 = s.deliveryMs.n === 0 ? 'none delivered' : String(s.deliveryMs.p99);
      return `${n(s.throughput)}, ${p99}${s.held ? '' : ' ✗'}`;
    });
    if (cells.some((c) => c)) out.push(`| ${n(rate)} | ${cells.join(' | ')} |`);
  }
  if (chart) out.push('', `![p99 delivery latency vs rate](${chart})`);
  return [...out, ...closeNotes(f.systems), ...notes(r)];
}

export function fanoutSection(r: ScenarioRecord): string[] {
  const f = r.figures as unknown as FanoutFigures;
  if (!f.latencyMs) return [...sectionHeader('group fan-out', r), 'No figures.', ...notes(r)];
  return [
    ...sectionHeader('group fan-out', r),
    `${n(f.members)} members (${n(f.online)} online over ${f.gates} gate${f.gates > 1 ? 's' : ''}, TCP and WS alternating); ` +
      `registration ${(f.registerMs / 1000).toFixed(1)} s, logins ${(f.loginMs / 1000).toFixed(1)} s, ` +
      `group creation ${(f.groupCreateMs / 1000).toFixed(1)} s (${f.createdWith ?? 'members offline'}). ` +
      'Latency = member receive time − send time.',
    ...(f.creationWave
      ? [
          '',
          `Creation notification (it lists every member id): reached ${n(f.creationWave.reached)} / ` +
            `${n(f.creationWave.expected)} members, the last after ${n(f.creationWave.allReachedMs)} ms.`,
        ]
      : []),
    '',
    '| message | sender ack ms | reached | p50 ms | p99 ms | max (all reached) ms |',
    '| ---: | ---: | ---: | ---: | ---: | ---: |',
    ...(f.coldMessage
      ? [
          `| cold (first message to the group, not in "all") | ${f.coldMessage.ackMs} | ${n(f.coldMessage.reached)} / ${n(f.coldMessage.expected)} | ` +
            `${f.coldMessage.latencyMs.p50} | ${f.coldMessage.latencyMs.p99} | ${f.coldMessage.latencyMs.max} |`,
        ]
      : []),
    ...f.messages.map(
      (m, i) =>
        `| ${i + 1} | ${m.ackMs} | ${n(m.reached)} / ${n(m.expected)} | ${m.latencyMs.p50} | ${m.latencyMs.p99} | ${m.latencyMs.max} |`,
    ),
    `| all | | ${n(f.latencyMs.n)} | ${f.latencyMs.p50} | ${f.latencyMs.p99} | ${f.allReachedMs} |`,
    ...notes(r),
  ];
}

export function idleSection(r: ScenarioRecord): string[] {
  const f = r.figures as unknown as IdleFigures;
  if (!f.tcp) return [...sectionHeader('idle connections', r), 'No figures.', ...notes(r)];
  return [
    ...sectionHeader('idle connections', r),
    `${n(f.connections)} logged-in idle connections on one gate (asked: ${n(f.requested)}); RSS from /proc/<pid>/status ` +
      `before and after each batch; then ${f.idleWindowMs / 1000} s idle with every client heartbeating every ` +
      `${f.heartbeatIntervalMs / 1000} s.`,
    '',
    '| measure | value |',
    '| --- | ---: |',
    `| RSS before connections | ${(f.rssBaselineBytes / 1048576).toFixed(1)} MiB |`,
    `| per TCP connection (${n(f.tcp.connected)}, logged in in ${(f.tcp.ms / 1000).toFixed(1)} s) | ${kb(f.tcp.bytesPerConnection)} |`,
    `| per WS connection (${n(f.ws.connected)}, logged in in ${(f.ws.ms / 1000).toFixed(1)} s) | ${kb(f.ws.bytesPerConnection)} |`,
    `| heartbeats answered in the window | ${n(f.heartbeatsAnswered)} |`,
    `| server CPU in the window | ${n(f.serverCpuMsInWindow)} ms (idle server without clients: ${f.baselineCpuPct} % of a core) |`,
    `| CPU above that baseline (heartbeats, and the gate's route refresh every 30 s) | ${f.heartbeatCpuPct} % of a core, ${f.cpuUsPerHeartbeat ?? '—'} µs per heartbeat |`,
    ...notes(r),
  ];
}

export function rmqSection(r: ScenarioRecord): string[] {
  const f = r.figures as RmqFigures;
  if (!f.lightLoad)
    return [
      ...sectionHeader('RocketMQ produce → consume (limit of one MQ hop)', r),
      'Not measured.',
      ...notes(r),
    ];
  const rt = f.lightLoad.roundTripMs;
  return [
    ...sectionHeader('RocketMQ produce → consume (limit of one MQ hop)', r),
    'packages/bus/scripts/rmq-roundtrip.bench.ts: bare RocketMqBus publish → subscribe, no mqim logic.',
    '',
    '| measure | value |',
    '| --- | ---: |',
    `| round trip at ${f.lightLoad.ratePerSec} msg/s, p50 / p90 / p99 / max | ${rt.p50} / ${rt.p90} / ${rt.p99} / ${rt.max} ms |`,
    `| sequential publish (await each) | ${n(f.sequentialPublish?.msgPerSec ?? 0)} msg/s |`,
    `| concurrent publish (${f.concurrentPublish?.inFlight} in flight) | ${n(f.concurrentPublish?.publishMsgPerSec ?? 0)} msg/s |`,
    `| end to end under that load | ${n(f.concurrentPublish?.endToEndMsgPerSec ?? 0)} msg/s |`,
    ...notes(r),
  ];
}

/** p99 delivery per rate for each system, for the chart. */
export function rampSeries(
  r: ScenarioRecord,
): { name: string; key: string; points: { x: number; y: number }[] }[] {
  const f = r.figures as unknown as RampFigures;
  return ORDER.filter((k) => f.systems?.[k]).map((k) => ({
    key: k,
    name: f.systems[k]!.label,
    points: f.systems[k]!.result.steps.map((s: C2cStepFigures) => ({
      x: s.targetRate,
      y: Math.max(0.01, s.deliveryMs.p99),
    })),
  }));
}

function services(usage: { servicesCpuPct?: Record<string, number> }): string {
  const entries = Object.entries(usage.servicesCpuPct ?? {});
  return entries.length ? entries.map(([k, v]) => `${k} ${v}`).join(', ') : '—';
}

interface HookCostFigures {
  rate: number;
  durationMs: number;
  hookDelayMs: number;
  hookCalls: number;
  without?: {
    ackMs: { p50: number; p99: number } | null;
    deliveryMs: { p50: number; p99: number };
    lost: number;
  };
  with?: {
    ackMs: { p50: number; p99: number } | null;
    deliveryMs: { p50: number; p99: number };
    lost: number;
  };
  addedMs: {
    ackP50: number | null;
    ackP99: number | null;
    deliveryP50: number | null;
    deliveryP99: number | null;
  };
}

export function hookCostSection(r: ScenarioRecord): string[] {
  const f = r.figures as unknown as HookCostFigures;
  if (!f.addedMs) return [...sectionHeader('before-send hook cost', r), 'No figures.', ...notes(r)];
  const row = (label: string, s: HookCostFigures['without']) =>
    !s
      ? `| ${label} | failed | | |`
      : `| ${label} | ${s.ackMs ? `${s.ackMs.p50} / ${s.ackMs.p99}` : '—'} | ` +
        `${s.deliveryMs.p50} / ${s.deliveryMs.p99} | ${s.lost} |`;
  const a = f.addedMs;
  return [
    ...sectionHeader('before-send hook cost', r),
    `${n(f.rate)} msg/s of c2c for ${f.durationMs / 1000} s on a deployment without a hook, then on a fresh one ` +
      `whose before-send hook answers \`allow\` after ${f.hookDelayMs} ms (${n(f.hookCalls)} hook calls).`,
    '',
    '| run | ack p50 / p99 ms | delivery p50 / p99 ms | undelivered |',
    '| --- | ---: | ---: | ---: |',
    row('no hook', f.without),
    row(`${f.hookDelayMs} ms hook`, f.with),
    `| **added** | ${a.ackP50 ?? '—'} / ${a.ackP99 ?? '—'} | ${a.deliveryP50 ?? '—'} / ${a.deliveryP99 ?? '—'} | |`,
    '',
    ...notes(r),
  ];
}

interface SendApiFigures {
  rate: number;
  durationMs: number;
  receivers: number;
  maxInFlight: number;
  offered: number;
  accepted: number;
  acceptedPerSec: number;
  refused: Record<string, number>;
  delivered: number;
  deliveredPerSec: number;
  undelivered: number;
  duplicates: number;
  postMs: { p50: number; p99: number };
  deliveryMs: { p50: number; p99: number };
}

export function sendApiSection(r: ScenarioRecord): string[] {
  const f = r.figures as unknown as SendApiFigures;
  if (f.accepted === undefined) return [...sectionHeader('send API', r), 'No figures.', ...notes(r)];
  const refused = Object.entries(f.refused ?? {})
    .map(([k, v]) => `${k}: ${n(v)}`)
    .join(', ');
  return [
    ...sectionHeader('send API', r),
    `\`POST /api/v1/messages\` at ${n(f.rate)} msg/s for ${f.durationMs / 1000} s (at most ${f.maxInFlight} in flight), ` +
      `user to user, ${f.receivers} recipients logged in over TCP.`,
    '',
    '| offered | accepted (201) /s | delivered /s | POST p50 / p99 ms | delivery p50 / p99 ms | undelivered | dup | refused |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    `| ${n(f.offered)} | ${n(f.acceptedPerSec)} | ${n(f.deliveredPerSec)} | ${f.postMs.p50} / ${f.postMs.p99} | ` +
      `${f.deliveryMs.p50} / ${f.deliveryMs.p99} | ${n(f.undelivered)} | ${n(f.duplicates)} | ${refused || 'none'} |`,
    ...notes(r),
  ];
}
