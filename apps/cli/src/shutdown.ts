import type { Logger } from '@mqim/config';

/**
 * Runs `stop` once on SIGINT/SIGTERM; a second signal, or a stop over `hardMs`, exits hard. A role
 * that drains passes its grace plus a margin, so a long drain is never cut off by this timer.
 */
export function onShutdown(logger: Logger, stop: () => Promise<void>, hardMs = 15_000): void {
  let stopping = false;
  const handler = (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const hard = setTimeout(() => {
      logger.error({ hardMs }, 'shutdown took too long; exiting hard');
      process.exit(1);
    }, hardMs);
    hard.unref();
    stop().then(
      () => process.exit(0),
      (err: Error) => {
        logger.error({ err: err.message }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => handler('SIGINT'));
  process.once('SIGTERM', () => handler('SIGTERM'));
}
