/**
 * Wall-clock milliseconds with sub-millisecond resolution. Senders stamp payloads with it and
 * receivers subtract it, possibly in another load process: `timeOrigin + now()` is derived from
 * the same system clock in every process, so cross-process error stays well under a millisecond
 * on one machine (unlike `performance.now()`, whose origin differs per process).
 */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
