/**
 * mqim benchmark harness. `npm run bench -- --help` for options; bench/REPORT.md for results.
 *
 * The orchestrator (this process) starts the system under test and load workers as separate
 * processes, runs each scenario, and writes bench/results/<run>-<scenario>.json plus a report.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs, type Scenario } from './bench.args';
import { planFor } from './bench.plan';
import { killAllChildren } from './common/child.process';
import { machineInfo } from './common/machine-info';
import { loadAverage } from './common/proc-stats';
import { log } from './common/progress';
import { latestRun, RESULTS_DIR, writeRecord } from './report/results.store';
import { isCanonical, writeReport } from './report/report.writer';
import type { BenchContext, ScenarioOutcome } from './scenarios/bench.context';
import { runC2cRamp } from './scenarios/c2c-ramp.scenario';
import { runC2cSteady } from './scenarios/c2c-steady.scenario';
import { runGroupFanout } from './scenarios/group-fanout.scenario';
import { runIdle } from './scenarios/idle-connections.scenario';
import { runRmqRoundTrip } from './scenarios/rmq-roundtrip.scenario';
import { runHookCost } from './scenarios/hook-cost.scenario';
import { runSendApi } from './scenarios/send-api.scenario';
import { startTarget } from './targets/target.factory';
import type { MqimTarget } from './targets/mqim.target';
import { waitUntilQuiet } from './scenarios/process.sampler';
import { ROOT } from './common/child.process';

const RUNNERS: Record<Scenario, (ctx: BenchContext) => Promise<ScenarioOutcome>> = {
  'c2c-steady': runC2cSteady,
  'c2c-ramp': runC2cRamp,
  'group-fanout': runGroupFanout,
  idle: runIdle,
  rmq: runRmqRoundTrip,
  'hook-cost': runHookCost,
  'send-api': runSendApi,
};

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.reportOnly) {
    const run = latestRun((r) => isCanonical(r.command));
    if (!run) throw new Error(`no results in ${RESULTS_DIR}`);
    log(`report: ${writeReport(run).join(', ')}`);
    return;
  }
  const plan = planFor(args.mode);
  const run = new Date().toISOString().slice(0, 19).replace(/:/g, '-');
  const machine = machineInfo(ROOT);
  const command = `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim();
  const profileRoot = join(RESULTS_DIR, 'profiles', run);
  const startProfiled = async (profileDir: string | undefined, env?: Record<string, string>) => {
    if (profileDir) mkdirSync(profileDir, { recursive: true });
    const target = await startTarget(args.target, { profileDir, env });
    // Lets the report name each profile by role (profiles are named by pid).
    if (profileDir) writeFileSync(join(profileDir, 'roles.json'), JSON.stringify(target.processes));
    return target;
  };
  // A cluster takes half a minute to start: one serves consecutive scenarios, and a scenario's
  // "stop" waits for it to work off that scenario's backlog. One still busy after the wait is
  // replaced, so that no scenario measures the previous one's queue.
  let cluster: Promise<MqimTarget> | undefined;
  const leaseCluster = async (fresh: boolean): Promise<MqimTarget> => {
    if (fresh && cluster) {
      const old = cluster;
      cluster = undefined;
      await (await old.catch(() => undefined))?.stop();
    }
    cluster ??= startProfiled(args.profile ? join(profileRoot, `cluster-${Date.now()}`) : undefined);
    const target = await cluster;
    return {
      ...target,
      stop: async () => {
        const q = await waitUntilQuiet(target.processes, { maxMs: args.mode === 'quick' ? 20_000 : 60_000 });
        if (q.quiet) return;
        log(`  cluster still busy after ${(q.waitedMs / 1000).toFixed(0)} s: replacing it`);
        cluster = undefined;
        await target.stop();
      },
    };
  };
  const ctx: BenchContext = {
    args,
    plan,
    run,
    startMqim: async (scenario, options) => {
      if (args.target === 'cluster' && !options?.env) return leaseCluster(options?.fresh === true);
      if (args.target === 'cluster' && cluster) {
        // Its own cluster: the shared one would only compete for the two cores.
        const old = cluster;
        cluster = undefined;
        await (await old.catch(() => undefined))?.stop();
      }
      const dirName = options?.env ? `${scenario}-${Date.now()}` : scenario;
      const profileDir = args.profile ? join(profileRoot, dirName) : undefined;
      return startProfiled(profileDir, options?.env);
    },
  };
  log(
    `mqim bench ${run}: ${args.mode}, target ${args.target}, scenarios ${args.scenarios.join(',')}; ` +
      `${machine.cores} cores, load average ${machine.loadAverageAtStart.join(' ')}`,
  );
  const started = Date.now();
  const files: string[] = [];
  for (const scenario of args.scenarios) {
    const startedAt = new Date().toISOString();
    const t0 = Date.now();
    const loadBefore = loadAverage();
    let outcome: ScenarioOutcome;
    try {
      outcome = await RUNNERS[scenario](ctx);
    } catch (err) {
      log(`${scenario} failed: ${(err as Error).stack ?? err}`);
      outcome = { figures: {}, notes: [`scenario failed: ${(err as Error).message.split('\n')[0]}`] };
    }
    files.push(
      writeRecord({
        run,
        scenario,
        target: args.target,
        mode: args.mode,
        command,
        startedAt,
        finishedAt: new Date().toISOString(),
        machine,
        contention: { loadAverageBefore: loadBefore, loadAverageAfter: loadAverage() },
        figures: outcome.figures,
        notes: outcome.notes,
      }),
    );
    log(`${scenario}: ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  }
  if (cluster) await (await cluster.catch(() => undefined))?.stop();
  const report = writeReport(run, args.profile ? profileRoot : undefined);
  log(`results: ${files.join(', ')}`);
  log(`report: ${report.join(', ')}`);
  log(`total ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

const interrupt = () => {
  killAllChildren();
  process.exit(130);
};
process.once('SIGINT', interrupt);
process.once('SIGTERM', interrupt);

main().then(
  () => {
    killAllChildren();
  },
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    killAllChildren();
    process.exit(1);
  },
);
