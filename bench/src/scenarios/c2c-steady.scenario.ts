import { GOALS } from '../bench.plan';
import type { BenchContext, ScenarioOutcome } from './bench.context';
import { describeStep } from './c2c.session';
import { forEachC2cSystem } from './c2c.systems-runner';
import { log } from '../common/progress';

/** N users in pairs at one fixed total rate for T seconds, on mqim and on each peer. */
export async function runC2cSteady(ctx: BenchContext): Promise<ScenarioOutcome> {
  const notes: string[] = [];
  const goal = ctx.args.target === 'cluster' ? GOALS.clusterC2c : GOALS.standaloneC2c;
  const rate = ctx.args.rate ?? goal.rate;
  const { durationMs, drainMs } = ctx.plan.steady;
  const systems = await forEachC2cSystem(
    ctx,
    'c2c-steady',
    async (session) => {
      const step = await session.step(rate, durationMs, drainMs);
      log(describeStep(step));
      return step;
    },
    notes,
  );
  return {
    figures: {
      rate,
      durationMs,
      drainMs,
      users: ctx.plan.c2c.users,
      transport: ctx.args.transport,
      receipts: ctx.plan.c2c.receipts,
      payloadBytes: ctx.plan.c2c.payloadBytes,
      systems,
    },
    notes,
  };
}
