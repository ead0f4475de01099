import { setMaxListeners } from 'node:events';
import type { PushResult } from './push.port';
import { CLOSED } from './retry.policy';

/**
 * The close() half of the provider contract, shared by every provider: one abort signal that stops
 * retries and in-flight requests, and a set of pending sends that close() waits for.
 */
export class ProviderLifecycle {
  private readonly controller = new AbortController();
  private readonly pending = new Set<Promise<unknown>>();

  constructor() {
    // Every in-flight request listens on this signal (and unlistens when done): hundreds at once is
    // normal, not a leak.
    setMaxListeners(0, this.controller.signal);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get closed(): boolean {
    return this.controller.signal.aborted;
  }

  /** Runs `send` unless closed, and remembers it until it settles. */
  run(send: () => Promise<PushResult>): Promise<PushResult> {
    if (this.closed) return Promise.resolve(CLOSED);
    const p = send();
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p)).catch(() => undefined);
    return p;
  }

  /** Aborts everything and waits until every pending send has settled. */
  async close(): Promise<void> {
    this.controller.abort();
    await Promise.allSettled([...this.pending]);
  }
}

/**
 * An abort signal that fires after `timeoutMs` or when `parent` fires, whichever comes first.
 * `dispose()` must be called once the request is over so the timer and listener do not pile up.
 */
export function requestSignal(
  parent: AbortSignal,
  timeoutMs: number,
): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onParent = (): void => controller.abort(parent.reason);
  const timer = setTimeout(
    () => controller.abort(new Error(`request timed out after ${timeoutMs} ms`)),
    timeoutMs,
  );
  if (parent.aborted) controller.abort(parent.reason);
  else parent.addEventListener('abort', onParent, { once: true });
  return {
    signal: controller.signal,
    dispose: () => {
      clearTimeout(timer);
      parent.removeEventListener('abort', onParent);
    },
  };
}

/** A short description of a thrown value for a `PushResult.reason` or a log line. */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as Error & { cause?: unknown }).cause;
    const code = (err as Error & { code?: unknown }).code;
    const base = typeof code === 'string' ? `${code}: ${err.message}` : err.message;
    return cause instanceof Error ? `${base} (${describeError(cause)})` : base;
  }
  return String(err);
}
