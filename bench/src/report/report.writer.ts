import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { GOALS } from '../bench.plan';
import { formatSummary, summarizeProfile } from '../profile/cpuprofile.summary';
import { goalRows } from './report.goals';
import {
  hookCostSection,
  fanoutSection,
  idleSection,
  rampSection,
  rampSeries,
  rmqSection,
  sendApiSection,
  steadySection,
} from './report.sections';
import { RESULTS_DIR, readRun, type ScenarioRecord } from './results.store';
import { lineChart } from './svg.chart';

const BENCH_DIR = resolve(RESULTS_DIR, '..');
const COLORS: Record<string, string> = { mqim: '#1f77b4', socketio: '#ff7f0e', 'ws-relay': '#2ca02c' };
const SHORT: Record<string, string> = {
  mqim: 'mqim',
  socketio: 'Socket.IO cluster',
  'ws-relay': 'bare ws relay',
};
const SECTIONS: [string, string][] = [
  ['c2c-steady', 'c2c steady'],
  ['c2c-ramp', 'c2c ramp'],
  ['group-fanout', 'group fan-out'],
  ['idle', 'idle connections'],
  ['rmq', 'RocketMQ round trip'],
  ['hook-cost', 'before-send hook cost'],
  ['send-api', 'send API'],
];

/**
 * Writes bench/results/<run>-report.md (this run only, with its CPU profiles) and, for a run with
 * the standard sizes, bench/REPORT.md (the newest standard record of every scenario and target,
 * so a partial rerun refreshes only its own sections), plus the SVG charts of this run. Returns
 * the paths written.
 */
export function writeReport(run: string, profileRoot?: string): string[] {
  const written: string[] = [];
  const mine = readRun(run);
  for (const r of mine.filter((x) => x.scenario === 'c2c-ramp')) {
    const file = chartFile(r);
    writeFileSync(join(RESULTS_DIR, file), rampChart(r));
    written.push(join(RESULTS_DIR, file));
  }
  const runReport = join(RESULTS_DIR, `${run}-report.md`);
  writeFileSync(runReport, render(mine, '', profileRoot));
  written.push(runReport);

  if (mine.some((r) => !isCanonical(r.command))) return written;
  writeFileSync(join(BENCH_DIR, 'REPORT.md'), render(latestRecords(), 'results/'));
  written.push(join(BENCH_DIR, 'REPORT.md'));
  return written;
}

function chartFile(r: ScenarioRecord): string {
  return `${r.run}-${r.target}-c2c-ramp.svg`;
}

function rampChart(r: ScenarioRecord): string {
  const f = r.figures as { p99LimitMs?: number };
  const goal = r.target === 'cluster' ? GOALS.clusterC2c : GOALS.standaloneC2c;
  return lineChart({
    title: `c2c p99 delivery latency vs offered rate (${r.target}, ${r.run})`,
    xLabel: 'offered rate, msg/s (log)',
    yLabel: 'p99 delivery, ms (log)',
    series: rampSeries(r).map((s) => ({
      name: s.key === 'mqim' ? `mqim ${r.target}` : (SHORT[s.key] ?? s.name),
      color: COLORS[s.key] ?? '#555',
      points: s.points,
    })),
    guides: [
      { y: f.p99LimitMs ?? 200, label: `ramp limit ${f.p99LimitMs ?? 200} ms` },
      { y: goal.p99Ms, label: `${r.target} goal ${goal.p99Ms} ms` },
    ],
  });
}

// Options that change what a scenario measures; runs with them get their own run report only.
// --profile too: a profiled server is slower.
const SHAPING = /--(rate|transport|idle-connections|fanout-members|fanout-create-online|no-peers|profile)\b/;

/** A run with the standard sizes only (--quick/--full, --target, --scenario): REPORT.md material. */
export function isCanonical(command: string): boolean {
  return !SHAPING.test(command);
}

/**
 * Newest record per (target, scenario) over every run in bench/results, from runs with the
 * standard sizes only (--quick/--full, --target, --scenario, --profile): REPORT.md compares
 * like with like.
 */
function latestRecords(): ScenarioRecord[] {
  const files = readdirSync(RESULTS_DIR).filter((f) => /^\d{4}-.*\.json$/.test(f));
  const best = new Map<string, ScenarioRecord>();
  for (const f of files.sort()) {
    const r = JSON.parse(readFileSync(join(RESULTS_DIR, f), 'utf8')) as ScenarioRecord;
    if (!isCanonical(r.command)) continue;
    if (Object.keys(r.figures).length === 0 && best.has(`${r.target}/${r.scenario}`)) continue;
    best.set(`${r.target}/${r.scenario}`, r);
  }
  return [...best.values()];
}

function render(records: ScenarioRecord[], chartPrefix: string, profileRoot?: string): string {
  const find = (target: string, scenario: string) =>
    records.find((r) => r.target === target && r.scenario === scenario);
  const m = records[0]?.machine;
  const runs = [...new Set(records.map((r) => r.run))].sort();
  const loads = records.map((r) => r.contention.loadAverageBefore[0]!);
  const out: string[] = [
    '# mqim benchmark report',
    '',
    'Produced by `npm run bench` (bench/src/main.ts); raw figures in `bench/results/<run>-<scenario>.json`.',
    'How to run and what each scenario does: [bench/README.md](README.md).',
    '',
  ];
  if (m)
    out.push(
      `Machine: ${m.cores} × ${m.cpuModel}, ${(m.memoryBytes / 2 ** 30).toFixed(1)} GiB, Node ${m.node}` +
        (m.roleNode && m.roleNode !== m.node ? ` (cluster roles on Node ${m.roleNode})` : '') +
        `, commit ${m.gitCommit.slice(0, 10)}${m.gitDirty ? ' + uncommitted changes' : ''}. Runs: ${runs.join(', ')}.`,
      '',
    );
  if (loads.some((l) => l > 1.5))
    out.push(
      `**Contention:** these numbers were taken while other work shared the ${m?.cores ?? '?'} cores (1-minute load ` +
        `average ${Math.min(...loads)}–${Math.max(...loads)} before the scenarios; the load generator and ` +
        `the server under test also share them). Treat them as a floor, and compare systems within a run ` +
        `rather than across runs. "machine busy %" in the tables is the whole machine during a step.`,
      '',
    );
  out.push('## Goals', '', '| goal | measured | gap |', '| --- | --- | --- |');
  for (const g of goalRows(find))
    out.push(
      `| ${g.goal} | ${g.measured} | ${g.met === true ? '✅ met' : g.met === false ? `❌ ${g.gap}` : g.gap} |`,
    );
  out.push('');
  for (const target of ['standalone', 'cluster']) {
    const mineT = records.filter((r) => r.target === target);
    if (mineT.length === 0) continue;
    out.push(
      target === 'standalone'
        ? '## Standalone (`mqim standalone`: one process, in-process bus, SQLite, in-memory cache)'
        : '## Cluster (`scripts/cluster-up`: gate ×2, logic ×2, job, api on RocketMQ, MariaDB, Redis)',
      '',
    );
    for (const [scenario] of SECTIONS) {
      const r = find(target, scenario);
      if (!r) continue;
      if (scenario === 'c2c-steady') out.push(...steadySection(r));
      if (scenario === 'c2c-ramp') {
        const chart = existsSync(join(RESULTS_DIR, chartFile(r)))
          ? `${chartPrefix}${chartFile(r)}`
          : undefined;
        out.push(...rampSection(r, chart));
      }
      if (scenario === 'group-fanout') out.push(...fanoutSection(r));
      if (scenario === 'idle') out.push(...idleSection(r));
      if (scenario === 'rmq') out.push(...rmqSection(r));
      if (scenario === 'hook-cost') out.push(...hookCostSection(r));
      if (scenario === 'send-api') out.push(...sendApiSection(r));
    }
  }
  out.push(...comparisonNotes());
  if (profileRoot && existsSync(profileRoot)) out.push(...profileSection(profileRoot));
  return `${out.join('\n')}\n`;
}

function comparisonNotes(): string[] {
  return [
    '## What the peers are',
    '',
    '- **Socket.IO cluster**: 2 Node processes with `@socket.io/redis-adapter` on the local Redis (unique key ' +
      "prefix per run), WebSocket transport only. A message is an event relayed to the recipient's room and acked " +
      'to the sender. **No persistence, no ordering or delivery guarantees**: mqim stores every message (SQLite in ' +
      'standalone, MySQL in the cluster) before it acks, and sends receipts back through the server.',
    '- **bare ws relay**: one process forwarding each binary WebSocket message of one socket to its paired socket; ' +
      'no login, no parsing, no ack. The ceiling of Node + `ws` on this machine for the same frames.',
    '- Each pair in mqim spans TCP and WS (mixed transport); peers are WebSocket only.',
    '',
    '## Optimisations',
    '',
    'Each optimisation made after profiling, with its before/after figures, the command and the runs ' +
      '(files in `bench/results/`) that measured them: [docs/performance.md](../docs/performance.md).',
    '',
  ];
}

function profileSection(root: string): string[] {
  const out = [
    '## CPU profiles',
    '',
    `\`node --cpu-prof\` of the server, under \`${relative(BENCH_DIR, root)}\`.`,
    '',
  ];
  for (const scenario of readdirSync(root).sort()) {
    const dir = join(root, scenario);
    const rolesFile = join(dir, 'roles.json');
    const roles = existsSync(rolesFile)
      ? (JSON.parse(readFileSync(rolesFile, 'utf8')) as { role: string; pid: number }[])
      : [];
    // CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile: thread 0 is the main thread; tsx's
    // module-loader thread writes a second, nearly idle profile.
    const mains = readdirSync(dir).filter((f) => /^CPU\.\d+\.\d+\.\d+\.0\.\d+\.cpuprofile$/.test(f));
    for (const f of mains.sort()) {
      const pid = Number(f.split('.')[3]);
      const role = roles.find((r) => r.pid === pid)?.role;
      // Profiles of one-shot commands (migrate, provision) get MQIM_NODE_ARGS too: skip them.
      if (roles.length > 0 && !role) continue;
      out.push(
        `### ${scenario}: ${role ?? `pid ${pid}`}`,
        '',
        formatSummary(summarizeProfile(join(dir, f), 15)),
        '',
      );
    }
  }
  return out;
}
