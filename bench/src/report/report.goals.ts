import { GOALS } from '../bench.plan';
import { judgeStep } from '../scenarios/c2c-ramp.scenario';
import type { C2cStepFigures } from '../scenarios/c2c.session';
import type { ScenarioRecord } from './results.store';
import type { FanoutFigures, IdleFigures, RampFigures, SteadyFigures } from './report.types';

export interface GoalRow {
  goal: string;
  measured: string;
  gap: string;
  met: boolean | null;
}

const n = (v: number) => Math.round(v).toLocaleString('en-US');
const pct = (have: number, want: number) => `${Math.round((100 * have) / want)} % of goal`;

/** Highest ramp rate that held with p99 delivery ≤ `p99Ms` (same other criteria as the ramp). */
export function highestHeldAt(steps: C2cStepFigures[], p99Ms: number): number {
  let best = 0;
  for (const s of steps) if (judgeStep(s, p99Ms).held) best = Math.max(best, s.targetRate);
  return best;
}

function c2cGoal(
  label: string,
  goal: { rate: number; p99Ms: number },
  steady?: ScenarioRecord,
  ramp?: ScenarioRecord,
): GoalRow {
  const parts: string[] = [];
  let met: boolean | null = null;
  let best = 0;
  const s = (steady?.figures as SteadyFigures | undefined)?.systems?.mqim?.result;
  if (s) {
    const ok =
      s.targetRate >= goal.rate &&
      s.throughput >= 0.98 * goal.rate &&
      s.deliveryMs.p99 <= goal.p99Ms &&
      s.lost === 0 &&
      s.duplicates === 0;
    met = ok;
    parts.push(
      `steady ${n(s.targetRate)} msg/s: ` +
        (s.deliveryMs.n === 0
          ? 'nothing delivered within the drain'
          : `delivered ${n(s.throughput)}/s, p99 ${s.deliveryMs.p99} ms`),
    );
  }
  const r = (ramp?.figures as RampFigures | undefined)?.systems?.mqim?.result;
  if (r) {
    best = highestHeldAt(r.steps, goal.p99Ms);
    parts.push(`ramp: highest rate with p99 ≤ ${goal.p99Ms} ms: ${n(best)} msg/s`);
    if (met === null) met = best >= goal.rate;
  }
  if (parts.length === 0) return { goal: label, measured: 'not measured', gap: '—', met: null };
  const have = Math.max(best, s && s.deliveryMs.p99 <= goal.p99Ms ? s.throughput : 0);
  return {
    goal: label,
    measured: parts.join('; '),
    gap: met
      ? 'met'
      : `${n(have)} of ${n(goal.rate)} msg/s within p99 ${goal.p99Ms} ms (${pct(have, goal.rate)})`,
    met,
  };
}

export function goalRows(
  latest: (target: string, scenario: string) => ScenarioRecord | undefined,
): GoalRow[] {
  const rows: GoalRow[] = [];
  rows.push(
    c2cGoal(
      `cluster c2c ≥ ${n(GOALS.clusterC2c.rate)} msg/s sustained, p99 delivery ≤ ${GOALS.clusterC2c.p99Ms} ms`,
      GOALS.clusterC2c,
      latest('cluster', 'c2c-steady'),
      latest('cluster', 'c2c-ramp'),
    ),
    c2cGoal(
      `standalone c2c ≥ ${n(GOALS.standaloneC2c.rate)} msg/s, p99 ≤ ${GOALS.standaloneC2c.p99Ms} ms`,
      GOALS.standaloneC2c,
      latest('standalone', 'c2c-steady'),
      latest('standalone', 'c2c-ramp'),
    ),
  );

  // Throughput at equal p99: each system's highest held ramp rate under the same p99 limit.
  for (const target of ['cluster', 'standalone']) {
    const ramp = latest(target, 'c2c-ramp')?.figures as RampFigures | undefined;
    const mq = ramp?.systems?.mqim?.result;
    const sio = ramp?.systems?.socketio?.result;
    if (!ramp || !mq || !sio) continue;
    const limit = ramp.p99LimitMs;
    const a = highestHeldAt(mq.steps, limit);
    const b = highestHeldAt(sio.steps, limit);
    const ratio = b > 0 ? a / b : a > 0 ? Infinity : 0;
    const met = ratio >= GOALS.vsSocketIo.factor;
    rows.push({
      goal: `≥ ${GOALS.vsSocketIo.factor}× the Socket.IO cluster's throughput at equal p99 (${target}, p99 ≤ ${limit} ms)`,
      measured: `mqim ${n(a)} msg/s vs Socket.IO ${n(b)} msg/s (${Number.isFinite(ratio) ? ratio.toFixed(2) : '∞'}×)`,
      gap: met ? 'met' : `${Number.isFinite(ratio) ? ratio.toFixed(2) : '—'}× of ${GOALS.vsSocketIo.factor}×`,
      met,
    });
  }

  const idle = latest('standalone', 'idle') ?? latest('cluster', 'idle');
  const f = idle?.figures as IdleFigures | undefined;
  if (f?.tcp) {
    const worst = Math.max(f.tcp.bytesPerConnection, f.ws.bytesPerConnection);
    const met = worst <= GOALS.idleBytesPerConn;
    rows.push({
      goal: `≤ ${GOALS.idleBytesPerConn / 1024} KB per idle logged-in connection`,
      measured: `TCP ${kb(f.tcp.bytesPerConnection)}, WS ${kb(f.ws.bytesPerConnection)} (${n(f.connections)} connections, ${idle!.target})`,
      gap: met ? 'met' : `worst ${kb(worst)} = ${(worst / GOALS.idleBytesPerConn).toFixed(1)}× the goal`,
      met,
    });
  } else
    rows.push({
      goal: `≤ 10 KB per idle logged-in connection`,
      measured: 'not measured',
      gap: '—',
      met: null,
    });

  const cl = latest('cluster', 'group-fanout')?.figures as FanoutFigures | undefined;
  const sa = latest('standalone', 'group-fanout')?.figures as FanoutFigures | undefined;
  const fanGoal = `5,000-member group fan-out on the cluster, p99 ≤ ${GOALS.clusterFanout5k.p99Ms} ms`;
  if (cl?.latencyMs) {
    const met = cl.latencyMs.p99 <= GOALS.clusterFanout5k.p99Ms && cl.missing === 0;
    rows.push({
      goal: fanGoal,
      measured: `p50 ${cl.latencyMs.p50} ms, p99 ${cl.latencyMs.p99} ms, all reached ${cl.allReachedMs} ms`,
      gap: met ? 'met' : `p99 ${(cl.latencyMs.p99 / GOALS.clusterFanout5k.p99Ms).toFixed(1)}× the goal`,
      met,
    });
  } else
    rows.push({
      goal: fanGoal,
      measured: sa?.latencyMs
        ? `cluster not measured; standalone: p50 ${sa.latencyMs.p50} ms, p99 ${sa.latencyMs.p99} ms, all reached ${sa.allReachedMs} ms`
        : 'not measured',
      gap: '— (needs the cluster target)',
      met: null,
    });
  return rows;
}

export const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
