import type { InstanceInfo, PresenceRegistry } from '@mqim/cache';
import type { Logger } from '@mqim/config';

export interface PresenceHeartbeatOptions {
  /** @default 5000 */
  intervalMs: number;
  /** @default 15000 */
  ttlMs: number;
}

/**
 * Keeps one process's record alive in the presence registry: a beat at start (awaited, so a gate
 * is listed before it can register a route), then every `intervalMs`, and `leave` on a clean stop.
 * A failed beat is logged and retried at the next tick; the record then expires on its own if the
 * cache stays away longer than the TTL, which is the point: nobody can tell such a process from a
 * dead one.
 */
export class PresenceHeartbeat {
  private timer?: NodeJS.Timeout;
  private beating?: Promise<void>;
  private failing = false;

  constructor(
    private readonly presence: PresenceRegistry,
    private readonly describe: () => InstanceInfo,
    private readonly options: PresenceHeartbeatOptions,
    private readonly logger: Logger,
    /** Called when a beat found no live record: the sweepers may have evicted what this process owns. */
    private readonly onFresh: (first: boolean) => void = () => undefined,
  ) {}

  async start(): Promise<void> {
    await this.beat(true);
    this.timer = setInterval(() => {
      // One beat at a time: a slow cache must not pile them up.
      if (!this.beating) this.beating = this.beat(false).finally(() => (this.beating = undefined));
    }, this.options.intervalMs);
    this.timer.unref();
  }

  /** One beat now (after start bound its ports); failures are logged like the periodic ones. */
  async beatNow(): Promise<void> {
    await this.beating;
    await this.beat(false);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.beating;
    const { role, id } = this.describe();
    await this.presence
      .leave(role, id)
      .catch((err: Error) => this.logger.warn({ err: err.message }, 'presence leave failed; it will expire'));
  }

  private async beat(first: boolean): Promise<void> {
    try {
      const fresh = await this.presence.beat(this.describe(), this.options.ttlMs);
      if (this.failing) this.logger.info('presence heartbeat restored');
      this.failing = false;
      if (fresh) {
        if (!first) this.logger.warn('presence heartbeat had expired; re-announcing');
        this.onFresh(first);
      }
    } catch (err) {
      if (!this.failing)
        this.logger.warn({ err: (err as Error).message }, 'presence heartbeat failed; retrying');
      this.failing = true;
    }
  }
}
