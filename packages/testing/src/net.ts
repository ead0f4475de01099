import { createServer } from 'node:net';

/**
 * An ephemeral TCP port that was free a moment ago (the OS picks it; we close our listener
 * before returning). Another process may grab it in between, so servers started on it should
 * still fail loudly on EADDRINUSE rather than be retried silently.
 */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('freePort: listener has no TCP address'));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}

export interface WaitForOptions {
  /**
   * Give up after this long.
   * @default 5000
   */
  timeoutMs?: number;
  /**
   * Pause between two evaluations of the predicate.
   * @default 25
   */
  intervalMs?: number;
  /**
   * What was awaited, for the timeout error ("gate-1 registered its route").
   * @default 'condition'
   */
  message?: string;
}

/**
 * Polls `predicate` until it returns a truthy value, and resolves with that value. A predicate
 * that throws counts as "not yet"; its last error is attached to the timeout error so a failing
 * test says why the condition never held instead of just "timed out".
 */
export async function waitFor<T>(
  predicate: () => T | Promise<T>,
  options: WaitForOptions = {},
): Promise<NonNullable<T>> {
  const { timeoutMs = 5000, intervalMs = 25, message = 'condition' } = options;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await predicate();
      if (value) return value as NonNullable<T>;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const cause = lastError instanceof Error ? `: last error: ${lastError.message}` : '';
      throw new Error(`waitFor: ${message} not met within ${timeoutMs} ms${cause}`, { cause: lastError });
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
