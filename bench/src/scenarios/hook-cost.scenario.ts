import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { log } from '../common/progress';
import { round } from '../common/stats';
import type { BenchContext, ScenarioOutcome } from './bench.context';
import { C2cSession, describeStep, type C2cStepFigures } from './c2c.session';
import { mqimSystem } from './c2c.systems';

/**
 * What a before-send webhook costs a conversation (issue 13): the same c2c load at one fixed
 * rate, once on a deployment without a hook and once on a fresh one whose every message is first
 * put to a business server that answers `allow` after `--hook-delay-ms` (5 ms by default). The
 * hook server runs in this process, on loopback; the added latency is the difference of the two
 * runs' percentiles. Opt-in (`--scenario hook-cost`): it starts two deployments.
 */
export async function runHookCost(ctx: BenchContext): Promise<ScenarioOutcome> {
  const notes: string[] = [];
  const cluster = ctx.args.target === 'cluster';
  const rate = ctx.args.rate ?? (cluster ? 200 : 250);
  const delayMs = ctx.args.hookDelayMs;
  const { durationMs, drainMs } = ctx.plan.steady;
  const hook = await startSlowHook(delayMs);
  const runs: Record<'without' | 'with', C2cStepFigures | undefined> = {
    without: undefined,
    with: undefined,
  };
  try {
    for (const which of ['without', 'with'] as const) {
      const env: Record<string, string> =
        which === 'with'
          ? {
              MQIM_HOOK_BEFORE_SEND_URL: hook.url,
              MQIM_HOOK_SECRET: 'bench-hook-secret',
              // Generous: the question is what a hook that answers costs, not what a late one does.
              MQIM_HOOK_BEFORE_SEND_BUDGET_MS: '2000',
              MQIM_HOOK_BEFORE_SEND_POLICY: 'closed',
            }
          : {};
      const target = await ctx.startMqim(`hook-cost-${which}`, { env });
      try {
        log(`hook-cost: mqim ${target.kind} ${which} a ${delayMs} ms before-send hook`);
        const session = await C2cSession.open(mqimSystem(target, ctx.args.transport), ctx.plan.c2c);
        try {
          const { rate: warmRate, durationMs: warmMs } = cluster
            ? ctx.plan.c2c.clusterWarmup
            : ctx.plan.c2c.warmup;
          for (let i = 0; i < 3; i++) {
            const w = await session.step(warmRate, warmMs, 5_000);
            if (w.delivered >= w.sent && w.unacked === 0) break;
          }
          const callsBefore = hook.calls;
          const step = await session.step(rate, durationMs, drainMs);
          log(describeStep(step));
          runs[which] = step;
          if (which === 'with' && hook.calls - callsBefore < step.acked) {
            notes.push(
              `the hook saw ${hook.calls - callsBefore} calls for ${step.acked} acked sends: some sends bypassed it`,
            );
          }
        } finally {
          await session.close();
        }
      } finally {
        await target.stop();
      }
    }
  } finally {
    await hook.close();
  }
  const added = (pick: (s: C2cStepFigures) => number | undefined) => {
    const a = runs.with && pick(runs.with);
    const b = runs.without && pick(runs.without);
    return a === undefined || b === undefined ? null : round(a - b, 1);
  };
  return {
    figures: {
      rate,
      durationMs,
      hookDelayMs: delayMs,
      target: ctx.args.target,
      hookCalls: hook.calls,
      without: runs.without,
      with: runs.with,
      addedMs: {
        ackP50: added((s) => s.ackMs?.p50),
        ackP99: added((s) => s.ackMs?.p99),
        deliveryP50: added((s) => s.deliveryMs.p50),
        deliveryP99: added((s) => s.deliveryMs.p99),
      },
    },
    notes,
  };
}

interface SlowHook {
  url: string;
  readonly calls: number;
  close(): Promise<void>;
}

/** A business server's before-send hook that allows everything after `delayMs`. */
async function startSlowHook(delayMs: number): Promise<SlowHook> {
  let calls = 0;
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      calls++;
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"action":"allow"}');
      }, delayMs);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/before-send`,
    get calls() {
      return calls;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
