import { log } from '../common/progress';
import { startSocketIoCluster, startWsRelay, type PeerTarget } from '../peers/peer.targets';
import type { MqimTarget } from '../targets/mqim.target';
import type { BenchContext } from './bench.context';
import { C2cSession } from './c2c.session';
import { mqimSystem, peerSystem, type C2cSystem } from './c2c.systems';
import { redisReachable } from './redis.probe';

type Runner<T> = (session: C2cSession) => Promise<T>;

/**
 * Runs `body` against mqim and, unless --no-peers, against the Socket.IO cluster and the bare ws
 * relay: each system started fresh, loaded alone (never two at once on these 2 cores), stopped.
 */
export async function forEachC2cSystem<T>(
  ctx: BenchContext,
  scenario: string,
  body: Runner<T>,
  notes: string[],
): Promise<Record<string, { label: string; result: T; connect: C2cSession['connect']; closes: unknown }>> {
  const out: Record<string, { label: string; result: T; connect: C2cSession['connect']; closes: unknown }> =
    {};
  // A system that fails is reported in the notes; the others still run.
  const run = async (start: () => Promise<{ system: C2cSystem; stop(): Promise<void> }>) => {
    let started: { system: C2cSystem; stop(): Promise<void> } | undefined;
    try {
      started = await start();
      const { system } = started;
      log(`${scenario}: ${system.label}`);
      const session = await C2cSession.open(system, ctx.plan.c2c);
      try {
        // Unrecorded warm-up, repeated (at most 3 times) until one completes in full: a fresh
        // cluster's consumers need a few seconds before messages flow at all.
        const { rate, durationMs } =
          ctx.args.target === 'cluster' ? ctx.plan.c2c.clusterWarmup : ctx.plan.c2c.warmup;
        for (let i = 0; i < 3; i++) {
          const w = await session.step(rate, durationMs, 5_000);
          if (w.delivered >= w.sent && w.unacked === 0) break;
          log(`  warm-up ${i + 1}: ${w.delivered}/${w.sent} delivered; warming up again`);
        }
        const result = await body(session);
        out[system.key] = { label: system.label, result, connect: session.connect, closes: undefined };
      } finally {
        const stats = await session.close();
        const entry = out[system.key];
        if (entry)
          entry.closes = { closed: stats.closed, errorNotices: stats.errorNotices, reasons: stats.reasons };
      }
    } catch (err) {
      const what = started?.system.label ?? 'system start';
      notes.push(`${what} failed: ${(err as Error).message.split('\n')[0]}`);
      log(`  ${what} failed: ${(err as Error).message}`);
    } finally {
      await started?.stop();
    }
  };

  await run(async () => {
    const target: MqimTarget = await ctx.startMqim(scenario);
    return { system: mqimSystem(target, ctx.args.transport), stop: () => target.stop() };
  });
  if (!ctx.args.peers) return out;

  if (await redisReachable(ctx.args.redisUrl)) {
    await run(async () => {
      const peer: PeerTarget = await startSocketIoCluster(ctx.args.redisUrl);
      return { system: peerSystem(peer), stop: () => peer.stop() };
    });
  } else notes.push(`Socket.IO cluster skipped: Redis not reachable at ${ctx.args.redisUrl}`);

  await run(async () => {
    const peer = await startWsRelay();
    return { system: peerSystem(peer), stop: () => peer.stop() };
  });
  return out;
}
