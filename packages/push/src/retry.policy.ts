import type { PushResult } from './push.port';

/** How a provider retries transient failures. */
export interface RetryOptions {
  /**
   * Attempts in total, the first one included. 1 disables retries.
   * @default 4
   */
  attempts?: number;
  /**
   * Backoff before the second attempt; doubles on each later one (before jitter).
   * @default 250
   */
  baseDelayMs?: number;
  /**
   * Ceiling of one backoff. A `Retry-After` longer than this ends the retries instead: a server
   * asking for minutes of silence should not be hammered, and a push that late is worthless.
   * @default 10000
   */
  maxDelayMs?: number;
  /** Source of jitter in [0, 1). @default Math.random */
  random?: () => number;
}

export type ResolvedRetry = Required<RetryOptions>;

export function resolveRetry(
  options: RetryOptions | undefined,
  defaults: Partial<RetryOptions> = {},
): ResolvedRetry {
  const r: ResolvedRetry = {
    attempts: options?.attempts ?? defaults.attempts ?? 4,
    baseDelayMs: options?.baseDelayMs ?? defaults.baseDelayMs ?? 250,
    maxDelayMs: options?.maxDelayMs ?? defaults.maxDelayMs ?? 10_000,
    random: options?.random ?? Math.random,
  };
  if (!Number.isInteger(r.attempts) || r.attempts < 1)
    throw new RangeError(`attempts must be ≥ 1, got ${r.attempts}`);
  return r;
}

/**
 * "Full jitter" backoff: uniform in [0, min(max, base·2^(n-1))]. Spreading retries over the whole
 * interval keeps many senders that failed together (an APNs blip) from retrying in lockstep.
 */
export function backoffDelay(retryNumber: number, policy: ResolvedRetry): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retryNumber - 1));
  return Math.floor(policy.random() * ceiling);
}

/** `Retry-After` as delay-seconds or an HTTP-date, in ms from `now`; undefined when absent/garbled. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (value == null) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** What one attempt of a request decided. */
export type AttemptOutcome =
  | { kind: 'done'; result: PushResult }
  | {
      kind: 'retry';
      reason: string;
      retryAfterMs?: number;
      /** Retry at once (e.g. with fresh credentials): the failure was ours, not the server's load. */
      immediate?: boolean;
    };

/** Resolves after `ms`, or early with `false` when `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export const CLOSED: PushResult = { ok: false, permanent: false, reason: 'closed' };

/**
 * Runs `attempt` until it is done, the attempts are used up, a `Retry-After` exceeds the ceiling, or
 * `signal` aborts (provider closing). The last transient failure becomes a non-permanent result;
 * `attempts` tells the caller how many requests went out (for logs and dead letters).
 */
export async function withRetry(
  policy: ResolvedRetry,
  signal: AbortSignal,
  attempt: (n: number) => Promise<AttemptOutcome>,
): Promise<{ result: PushResult; attempts: number }> {
  for (let n = 1; ; n++) {
    if (signal.aborted) return { result: CLOSED, attempts: n - 1 };
    const outcome = await attempt(n);
    if (outcome.kind === 'done') return { result: outcome.result, attempts: n };
    if (signal.aborted) return { result: CLOSED, attempts: n };
    const giveUp = (reason: string) => ({
      result: { ok: false, permanent: false, reason } as const,
      attempts: n,
    });
    if (n >= policy.attempts) return giveUp(`${outcome.reason} (after ${n} attempts)`);
    if (outcome.retryAfterMs !== undefined && outcome.retryAfterMs > policy.maxDelayMs) {
      return giveUp(
        `${outcome.reason} (Retry-After ${outcome.retryAfterMs} ms exceeds ${policy.maxDelayMs} ms)`,
      );
    }
    const delay = outcome.immediate ? 0 : Math.max(outcome.retryAfterMs ?? 0, backoffDelay(n, policy));
    if (!(await sleep(delay, signal))) return { result: CLOSED, attempts: n };
  }
}
