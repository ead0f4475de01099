import { checkMqimConfig, mqimSchema, readConfig, type Logger, type MqimConfig } from '@mqim/config';

// What every cluster command shares: its configuration, and how a dependency it cannot start
// without is reported (one fatal line naming the dependency, the problem and the fix) and exits.

/** A role process runs on the real engines unless the environment says otherwise. */
export function clusterConfig(env: NodeJS.ProcessEnv = process.env): MqimConfig {
  return readConfig(
    mqimSchema,
    { MQIM_BUS: 'rocketmq', MQIM_STORE: 'mysql', MQIM_CACHE: 'redis', ...env },
    checkMqimConfig,
  );
}

/** sysexits: a service we need does not answer / something must be set up first. */
export const EX_UNAVAILABLE = 69;
export const EX_CONFIG = 78;
/**
 * A dependency a process cannot start without. The message names the dependency, what is wrong
 * and how to fix it, because the person reading it is deploying, not debugging.
 */
export class StartupError extends Error {
  readonly code = 'IM_ERR_STARTUP';
  override readonly name = 'StartupError';

  constructor(
    readonly dependency: string,
    readonly problem: string,
    readonly fix: string,
    readonly exitCode: number = EX_UNAVAILABLE,
  ) {
    super(`${dependency}: ${problem}. Fix: ${fix}`);
  }
}

/**
 * Runs `fn`; on a `StartupError` logs it as one fatal line (dependency, problem, fix), closes
 * whatever `opened` holds and exits with the error's code. Other errors propagate.
 */
export async function exitOnStartupError<T>(
  logger: Logger,
  opened: { close(): Promise<void> }[],
  fn: () => Promise<T>,
): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (!(err instanceof StartupError)) throw err;
    logger.fatal({ dependency: err.dependency, problem: err.problem, fix: err.fix }, err.message);
    // Bounded: a half-open client must not keep a process that cannot work alive.
    await Promise.race([Promise.allSettled(opened.map((o) => o.close())), sleep(1000)]);
    process.exit(err.exitCode);
  }
}

export function maskUrl(value: string): string {
  try {
    const url = new URL(value);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return value;
  }
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** A URL from `variable`, or a StartupError saying it is not one. */
export function parseUrl(value: string, variable: string): URL {
  try {
    return new URL(value);
  } catch {
    throw new StartupError(variable, `"${value}" is not a URL`, `set ${variable} to a valid URL`, EX_CONFIG);
  }
}
