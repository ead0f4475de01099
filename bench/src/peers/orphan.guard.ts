/**
 * Peer servers are spawned by the orchestrator and must never outlive it: exit when re-parented
 * (the orchestrator died without killing us) or after a hard lifetime cap.
 */
export function exitWhenOrphaned(lifetimeMs = 30 * 60_000): void {
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) process.exit(2);
  }, 1000).unref();
  setTimeout(() => process.exit(3), lifetimeMs).unref();
  process.once('SIGTERM', () => process.exit(0));
  process.once('SIGINT', () => process.exit(0));
}
