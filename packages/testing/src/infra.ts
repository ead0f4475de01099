import { spawnSync } from 'node:child_process';
import type { InfraProbe, TcpEndpoint } from './probes';

/** A suite needed a service that is not there, in a run that requires it (CI). */
export class InfraUnavailableError extends Error {
  readonly code = 'IM_ERR_INFRA_UNAVAILABLE';
  override readonly name = 'InfraUnavailableError';
}

/**
 * True when missing infrastructure must fail the run: env `MQIM_REQUIRE_INFRA=1` (or `true`), or
 * `CI=true` (or `1`). An explicit `MQIM_REQUIRE_INFRA=0` wins over `CI`, for CI jobs that run the
 * integration project without some service on purpose.
 */
export function isInfraRequired(env: NodeJS.ProcessEnv = process.env): boolean {
  const flag = env.MQIM_REQUIRE_INFRA?.trim().toLowerCase();
  if (flag !== undefined && flag !== '') return flag === '1' || flag === 'true';
  const ci = env.CI?.trim().toLowerCase();
  return ci === 'true' || ci === '1';
}

export interface ReachResult extends TcpEndpoint {
  readonly ok: boolean;
  /** `ECONNREFUSED`, `timeout after 1500 ms`... when not ok. */
  readonly error?: string;
}

// Runs in a child node process so the answer is known synchronously, while jest is still
// collecting tests: only then can a suite be registered as *skipped* (jest has no way to skip a
// test from inside a running hook, and an early `return` would count as a pass).
const REACH_SCRIPT = `
const net = require('node:net');
const [endpoints, timeoutMs] = [JSON.parse(process.argv[1]), Number(process.argv[2])];
Promise.all(endpoints.map((e) => new Promise((resolve) => {
  const s = net.connect({ host: e.host, port: e.port });
  const done = (ok, error) => { s.destroy(); resolve({ host: e.host, port: e.port, ok, error }); };
  s.setTimeout(timeoutMs, () => done(false, 'timeout after ' + timeoutMs + ' ms'));
  s.once('connect', () => done(true));
  s.once('error', (err) => done(false, err.code || err.message));
}))).then((r) => process.stdout.write(JSON.stringify(r)));
`;

/** TCP-connects to every endpoint (in parallel, in a child process) and blocks until all answered. */
export function reachSync(endpoints: readonly TcpEndpoint[], timeoutMs = 1500): ReachResult[] {
  if (endpoints.length === 0) return [];
  const child = spawnSync(
    process.execPath,
    ['-e', REACH_SCRIPT, JSON.stringify(endpoints), String(timeoutMs)],
    {
      encoding: 'utf8',
      timeout: timeoutMs + 5000,
    },
  );
  if (child.status !== 0 || child.error) {
    const why = child.error?.message ?? child.stderr;
    throw new Error(`reachSync: probe process failed: ${why}`);
  }
  return JSON.parse(child.stdout) as ReachResult[];
}

export type InfraPlan =
  | { readonly kind: 'run' }
  | { readonly kind: 'skip'; readonly message: string }
  | { readonly kind: 'fail'; readonly error: InfraUnavailableError };

export interface PlanInfraOptions {
  /**
   * Whether an unreachable service fails the run instead of skipping the suite.
   * @default isInfraRequired()
   */
  required?: boolean;
  /**
   * Per-endpoint TCP connect timeout.
   * @default 1500
   */
  timeoutMs?: number;
}

/** Decides, synchronously, whether a suite needing `probes` runs, is skipped, or fails. */
export function planInfra(
  title: string,
  probes: readonly InfraProbe[],
  options: PlanInfraOptions = {},
): InfraPlan {
  const required = options.required ?? isInfraRequired();
  const missing: string[] = [];
  const hints: string[] = [];
  for (const probe of probes) {
    const down = reachSync(probe.endpoints, options.timeoutMs).filter((r) => !r.ok);
    if (down.length === 0) continue;
    const why = down.map((r) => `${r.host}:${r.port} ${r.error ?? 'unreachable'}`).join(', ');
    missing.push(`${probe.service} not reachable at ${probe.target} (${why})`);
    hints.push(`${probe.service}: ${probe.hint}`);
  }
  if (missing.length === 0) return { kind: 'run' };
  const detail = `${missing.join('; ')}.\n  To fix: ${hints.join('\n          ')}`;
  if (required) {
    return {
      kind: 'fail',
      error: new InfraUnavailableError(
        `"${title}" requires infrastructure (MQIM_REQUIRE_INFRA=1 or CI=true): ${detail}`,
      ),
    };
  }
  return {
    kind: 'skip',
    message:
      `\n⚠⚠⚠ SKIPPED "${title}": ${detail}\n` +
      '  Set MQIM_REQUIRE_INFRA=1 to make missing infrastructure a failure.\n',
  };
}

export type DescribeInfraOptions = PlanInfraOptions;

/**
 * `describe` for suites that need real services:
 *
 * ```ts
 * const redis = probeRedis();
 * describeInfra('RedisCache', redis, () => {
 *   it('routes - lookup', async () => { ... new RedisCache({ url: redis.url }) ... });
 * });
 * ```
 *
 * - every endpoint reachable → a normal `describe`, whose first `beforeAll` runs each probe's
 *   `check()` (so a reachable port with the wrong thing behind it fails, never skips);
 * - unreachable and required (CI) → one failing test naming the service and how to start it,
 *   the suite's own tests reported as skipped;
 * - unreachable otherwise → `describe.skip` plus a loud `console.warn`: jest's summary shows the
 *   tests as skipped, never as passed.
 */
export function describeInfra(
  title: string,
  probes: InfraProbe | readonly InfraProbe[],
  body: () => void,
  options: DescribeInfraOptions = {},
): void {
  const list: readonly InfraProbe[] = isProbeList(probes) ? probes : [probes];
  const plan = planInfra(title, list, options);
  switch (plan.kind) {
    case 'run':
      describe(title, () => {
        beforeAll(async () => {
          for (const probe of list) {
            try {
              await probe.check();
            } catch (err) {
              const why = err instanceof Error ? err.message : String(err);
              throw new InfraUnavailableError(
                `${probe.service} at ${probe.target} accepts connections but failed its check: ${why}`,
              );
            }
          }
        }, 15_000);
        body();
      });
      return;
    case 'skip':
      console.warn(plan.message);
      describe.skip(title, body);
      return;
    case 'fail':
      describe(title, () => {
        it(`infrastructure - ${list.map((p) => p.service).join(' + ')} reachable`, () => {
          throw plan.error;
        });
        describe.skip('(not run: infrastructure missing)', body);
      });
      return;
  }
}

function isProbeList(probes: InfraProbe | readonly InfraProbe[]): probes is readonly InfraProbe[] {
  return Array.isArray(probes);
}
