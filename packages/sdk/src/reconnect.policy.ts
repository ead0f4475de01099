export interface ReconnectOptions {
  /** Delay before the first attempt. @default 500 */
  initialDelayMs?: number;
  /** Cap of the delay. @default 30000 */
  maxDelayMs?: number;
  /** Growth of the delay per failed attempt. @default 2 */
  factor?: number;
  /**
   * Share of each delay that is random (0 = none, 1 = anywhere from 0 to the delay), so that the
   * clients of a gate that died do not all come back at the same instant.
   * @default 0.5
   */
  jitter?: number;
  /** Give up after this many failed attempts. @default Infinity */
  maxAttempts?: number;
}

export type ResolvedReconnectOptions = Required<ReconnectOptions>;

export function resolveReconnectOptions(options: ReconnectOptions): ResolvedReconnectOptions {
  return {
    initialDelayMs: options.initialDelayMs ?? 500,
    maxDelayMs: options.maxDelayMs ?? 30_000,
    factor: options.factor ?? 2,
    jitter: Math.min(1, Math.max(0, options.jitter ?? 0.5)),
    maxAttempts: options.maxAttempts ?? Number.POSITIVE_INFINITY,
  };
}

/** Exponential backoff with jitter: attempt n waits initial × factor^(n-1), capped, minus a random share. */
export function reconnectDelay(
  attempt: number,
  options: ResolvedReconnectOptions,
  random: () => number = Math.random,
): number {
  const base = Math.min(
    options.maxDelayMs,
    options.initialDelayMs * options.factor ** Math.max(0, attempt - 1),
  );
  return Math.round(base * (1 - options.jitter * random()));
}
