import type { C2cStepFigures } from './c2c.session';
import { judgeStep, rampRatesFor } from './c2c-ramp.scenario';
import { planFor } from '../bench.plan';
import type { BenchArgs } from '../bench.args';
import { highestHeldAt } from '../report/report.goals';

const latency = (p99: number) => ({ n: 100, p50: p99 / 2, p95: p99, p99, max: p99, mean: p99 / 2 });

function step(rate: number, p99: number, over: Partial<C2cStepFigures> = {}): C2cStepFigures {
  return {
    targetRate: rate,
    durationMs: 1000,
    sent: rate,
    acked: rate,
    refused: 0,
    delivered: rate,
    duplicates: 0,
    lost: 0,
    unacked: 0,
    late: 0,
    sendRate: rate,
    throughput: rate,
    ackMs: latency(p99),
    deliveryMs: latency(p99),
    usage: { cpuPct: {}, rssMiB: {}, machineBusyPct: 0 },
    generatorCpuPct: 0,
    ...over,
  };
}

describe('c2c ramp - judging a step', () => {
  it('holds when p99 is within the limit and nothing is lost', () => {
    expect(judgeStep(step(1000, 150), 200)).toEqual({ held: true });
  });

  it('fails on p99, loss, duplicates and falling behind, in that order of blame', () => {
    expect(judgeStep(step(1000, 250), 200).why).toMatch(/p99/);
    expect(judgeStep(step(1000, 10, { lost: 1 }), 200).why).toMatch(/lost 1/);
    expect(judgeStep(step(1000, 10, { duplicates: 2 }), 200).why).toMatch(/2 duplicates/);
    expect(judgeStep(step(1000, 10, { throughput: 900 }), 200).why).toMatch(/delivered 900/);
  });

  it('blames the generator, not the system, when it could not send at the rate', () => {
    expect(judgeStep(step(1000, 10, { sendRate: 800 }), 200).why).toMatch(/generator-bound/);
  });

  it('finds the highest rate held under another p99 limit from the same steps', () => {
    const steps = [step(250, 5), step(500, 15), step(1000, 40), step(2000, 500)];
    expect(highestHeldAt(steps, 20)).toBe(500);
    expect(highestHeldAt(steps, 100)).toBe(1000);
    expect(highestHeldAt(steps, 1)).toBe(0);
  });
});

describe('c2c ramp - steps per system', () => {
  const ctx = (mode: 'quick' | 'full', target: 'standalone' | 'cluster') => ({
    plan: planFor(mode),
    args: { target } as BenchArgs,
  });

  it.each(['quick', 'full'] as const)(
    '%s: the cluster starts below its capacity, in steps of >= 5 s',
    (mode) => {
      const c = ctx(mode, 'cluster');
      const rates = rampRatesFor(c, 'mqim');
      expect(rates[0]).toBeLessThanOrEqual(100);
      expect(rates).toContain(1000);
      expect(rates).toContain(2000);
      expect([...rates].sort((a, b) => a - b)).toEqual(rates);
      expect(c.plan.ramp.stepMs).toBeGreaterThanOrEqual(5000);
    },
  );

  it('peers in a cluster run and the standalone keep the wide ramp', () => {
    expect(rampRatesFor(ctx('quick', 'cluster'), 'socketio')).toEqual(planFor('quick').ramp.rates);
    expect(rampRatesFor(ctx('quick', 'standalone'), 'mqim')).toEqual(planFor('quick').ramp.rates);
  });
});
