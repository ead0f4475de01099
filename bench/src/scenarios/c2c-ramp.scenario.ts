import { log } from '../common/progress';
import type { BenchContext, ScenarioOutcome } from './bench.context';
import { describeStep, type C2cStepFigures } from './c2c.session';
import { forEachC2cSystem } from './c2c.systems-runner';

export interface RampResult {
  steps: (C2cStepFigures & { held: boolean; why?: string })[];
  /** Highest target rate whose step held; 0 when even the first failed. */
  highestHeld: number;
  /** Why the ramp stopped. */
  stoppedBy: string;
}

/**
 * A step holds when p99 delivery stays within the limit, nothing is lost, duplicated or left
 * unacked, and the system delivered at least 95 % of the target rate. A step the generator could
 * not send at (< 90 % of target) stops the ramp as "generator-bound", not as the system's limit.
 */
export function judgeStep(s: C2cStepFigures, p99LimitMs: number): { held: boolean; why?: string } {
  if (s.sendRate < 0.9 * s.targetRate) return { held: false, why: `generator-bound: sent ${s.sendRate}/s` };
  if (s.deliveryMs.p99 > p99LimitMs)
    return { held: false, why: `p99 ${s.deliveryMs.p99} ms > ${p99LimitMs}` };
  if (s.lost > 0 || s.unacked > 0) return { held: false, why: `lost ${s.lost}, unacked ${s.unacked}` };
  if (s.duplicates > 0) return { held: false, why: `${s.duplicates} duplicates` };
  if (s.throughput < 0.95 * s.targetRate) return { held: false, why: `delivered ${s.throughput}/s` };
  return { held: true };
}

/** Raises the c2c rate stepwise until p99 delivery passes the limit; reports the last rate held. */
export async function runC2cRamp(ctx: BenchContext): Promise<ScenarioOutcome> {
  const notes: string[] = [];
  const { stepMs, drainMs, p99LimitMs } = ctx.plan.ramp;
  const rates = new Set<number>();
  const systems = await forEachC2cSystem<RampResult>(
    ctx,
    'c2c-ramp',
    async (session) => {
      const out: RampResult = { steps: [], highestHeld: 0, stoppedBy: 'all steps held' };
      for (const rate of rampRatesFor(ctx, session.system.key)) {
        rates.add(rate);
        const step = await session.step(rate, stepMs, drainMs);
        const verdict = judgeStep(step, p99LimitMs);
        log(`${describeStep(step)}${verdict.held ? '' : `  ✗ ${verdict.why}`}`);
        out.steps.push({ ...step, ...verdict });
        if (!verdict.held) {
          out.stoppedBy = verdict.why!;
          break;
        }
        out.highestHeld = rate;
      }
      return out;
    },
    notes,
  );
  const all = [...rates].sort((a, b) => a - b);
  return { figures: { rates: all, stepMs, p99LimitMs, users: ctx.plan.c2c.users, systems }, notes };
}

/** Each system's steps bracket its capacity: the cluster's start far below the standalone's. */
export function rampRatesFor(ctx: Pick<BenchContext, 'plan' | 'args'>, system: string): number[] {
  return system === 'mqim' && ctx.args.target === 'cluster'
    ? ctx.plan.ramp.clusterRates
    : ctx.plan.ramp.rates;
}
