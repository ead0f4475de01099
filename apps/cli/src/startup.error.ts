import { StartupError } from '@mqim/composition';
import { checkMqimConfig, mqimSchema, readConfig, type Logger, type MqimConfig } from '@mqim/config';

// What every cluster command shares: its configuration, and how a dependency it cannot start
// without (a StartupError from @mqim/composition) is reported - one fatal line naming the
// dependency, the problem and the fix - and exits.

/** A role process runs on the real engines unless the environment says otherwise. */
export function clusterConfig(env: NodeJS.ProcessEnv = process.env): MqimConfig {
  return readConfig(
    mqimSchema,
    { MQIM_BUS: 'rocketmq', MQIM_STORE: 'mysql', MQIM_CACHE: 'redis', ...env },
    checkMqimConfig,
  );
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

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
