import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, track } from '../common/child.process';
import { log, showProgress } from '../common/progress';
import type { BenchContext, ScenarioOutcome } from './bench.context';

/**
 * The limit of one MQ hop: packages/bus/scripts/rmq-roundtrip.bench.ts (bare produce → consume
 * through RocketMqBus), run as its own process, only when the local RocketMQ is up.
 */
export async function runRmqRoundTrip(ctx: BenchContext): Promise<ScenarioOutcome> {
  const status = await rocketMqStatus();
  if (!/broker \+ proxy\s+running/.test(status))
    return {
      figures: {},
      notes: ['skipped: RocketMQ is not running (bash infra/rocketmq/rocketmq.sh status)'],
    };
  const script = 'packages/bus/scripts/rmq-roundtrip.bench.ts';
  const stop = showProgress('rmq round trip', () => 'running');
  try {
    const stdout = await new Promise<string>((resolve, reject) => {
      const child = track(
        spawn(process.execPath, ['--import', 'tsx', script, ...ctx.plan.rmq.args], {
          cwd: ROOT,
          stdio: ['ignore', 'pipe', 'pipe'],
        }),
      );
      let out = '';
      let err = '';
      child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 10 * 60_000);
      child.once('exit', (code) => {
        clearTimeout(timer);
        if (code === 0) resolve(out);
        else reject(new Error(`${script} exited with ${code}: ${err.slice(-1000)}`));
      });
    });
    stop();
    const figures = JSON.parse(stdout.slice(stdout.indexOf('{'))) as Record<string, unknown>;
    log(`  ${JSON.stringify(figures)}`);
    return { figures: { script, args: ctx.plan.rmq.args, ...figures }, notes: [] };
  } catch (err) {
    stop();
    throw err;
  }
}

function rocketMqStatus(): Promise<string> {
  return new Promise((resolve) => {
    execFile(
      'bash',
      [join(ROOT, 'infra/rocketmq/rocketmq.sh'), 'status'],
      { timeout: 30_000 },
      (_err, stdout) => resolve(stdout ?? ''),
    );
  });
}
