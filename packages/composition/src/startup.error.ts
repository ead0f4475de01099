// How a dependency a process cannot start without is described: one line naming the dependency,
// the problem and the fix. The CLI decides what to do with it (log it and exit with `exitCode`).

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

/** A URL from `variable`, or a StartupError saying it is not one. */
export function parseUrl(value: string, variable: string): URL {
  try {
    return new URL(value);
  } catch {
    throw new StartupError(variable, `"${value}" is not a URL`, `set ${variable} to a valid URL`, EX_CONFIG);
  }
}
