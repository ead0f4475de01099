import type { Cache } from '@mqim/cache';
import type { Logger } from '@mqim/config';
import type { MqimMetrics } from '@mqim/metrics';

/**
 * Evicts the routes of gates that hold routes but no longer beat: a gate killed without a drain
 * (`kill -9`, a lost host) leaves routes that would otherwise live until their TTL (90 s by
 * default), and every delivery to its users would go to a topic nobody reads instead of the
 * offline path. Run by every logic and job process; `removeGate` is idempotent, so several
 * sweepers cost a few Redis reads each and nothing else.
 *
 * It never evicts a gate listed as alive, and a lost cache loses routes and heartbeats together
 * (nothing to evict), so a live gate can only be swept if its beats fail for a whole TTL — and its
 * next successful beat, seeing no record, re-registers its routes at once (PresenceHeartbeat).
 */
export class DeadGateSweeper {
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;

  constructor(
    private readonly cache: Cache,
    private readonly logger: Logger,
    private readonly intervalMs: number,
    private readonly metrics?: MqimMetrics,
  ) {}

  start(): void {
    if (this.intervalMs <= 0) return;
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.sweep()
        .catch((err: Error) => this.logger.warn({ err: err.message }, 'dead-gate sweep failed'))
        .finally(() => (this.running = undefined));
    }, this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One sweep; returns the gates whose routes it evicted. */
  async sweep(): Promise<string[]> {
    const [withRoutes, live] = await Promise.all([this.cache.routes.gates(), this.cache.presence.list()]);
    const alive = new Set(live.filter((i) => i.role === 'gate').map((i) => i.id));
    const dead = withRoutes.filter((gateId) => !alive.has(gateId));
    const evicted: string[] = [];
    for (const gateId of dead) {
      // Asked again just before acting: a gate whose beat came back since the snapshot may have
      // re-registered its routes, and evicting now would wipe them until its next refresh.
      const now = await this.cache.presence.list();
      if (now.some((i) => i.role === 'gate' && i.id === gateId)) continue;
      await this.cache.routes.removeGate(gateId);
      this.metrics?.deadGateEvictions.inc();
      this.logger.warn({ gate: gateId }, 'dead gate: no heartbeat, its routes evicted');
      evicted.push(gateId);
    }
    return evicted;
  }
}
