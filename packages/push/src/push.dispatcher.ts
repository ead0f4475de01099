import { createLogger, type Logger } from '@mqim/config';
import { PushCoalescer, summarizeBatch, type CoalescedBatch } from './push.coalescer';
import type { PushNotification, PushPlatform, PushProvider, PushResult, PushTarget } from './push.port';

export interface PushDispatcherOptions {
  /** At most one per platform. */
  providers: readonly PushProvider[];
  /**
   * The user's registered devices, asked once per push that goes out (not per message: a batch of
   * 50 coalesced messages costs one lookup).
   */
  targets: (userId: number) => Promise<readonly PushTarget[]>;
  /**
   * A platform said this token is dead: unregister it. Errors are logged; the next push to the
   * token will report it again.
   */
  onPermanentFailure?: (userId: number, target: PushTarget, reason: string) => void | Promise<void>;
  /**
   * Called once per push that went out (or tried to), with what happened: the job publishes it as
   * PUSH_SENT / PUSH_FAILED. A throw is logged, never propagated.
   */
  onReport?: (n: PushNotification, report: PushReport) => void;
  /**
   * Devices of a platform without its own provider are sent through this one instead (typically
   * `webhook`: the business server forwards through its own vendor). Without it they are skipped.
   */
  fallbackPlatform?: PushPlatform;
  /**
   * Notifications to one user within this window become one push.
   * @default 2000
   */
  coalesceWindowMs?: number;
  /**
   * At most this many pushes per user per `userCapIntervalMs`; more wait (still merging).
   * @default 10
   */
  userCap?: number;
  /** @default 60000 */
  userCapIntervalMs?: number;
  /** Turns a batch into the notification sent. @default summarizeBatch ("N new messages") */
  summarize?: (batch: CoalescedBatch) => PushNotification;
  /**
   * Provider sends in flight at once, all users and platforms together. Bounds sockets, memory and
   * the burst a large group's fan-out throws at APNs/FCM.
   * @default 64
   */
  maxConcurrentSends?: number;
  /** @default createLogger('push') */
  logger?: Logger;
  /** @default Date.now */
  now?: () => number;
}

/** What happened to one push, device by device. */
export interface PushReport {
  userId: number;
  /** Devices found for the user (after removing duplicates). */
  targets: number;
  delivered: number;
  /** Devices whose platform has no provider (and no fallback). */
  skipped: number;
  failures: Array<{ target: PushTarget; permanent: boolean; reason: string }>;
}

/**
 * Offline push for the job: picks the provider by each device's platform, sends to every device of
 * the user, reports dead tokens through `onPermanentFailure`, and keeps floods in check by
 * coalescing per user and capping pushes per user (see {@link PushCoalescer}).
 *
 * Contract: best effort, never throws into the caller. `notify()` returns at once; the push goes
 * out when the user's window closes. Nothing is persisted: pending batches die with the process
 * (sync recovers the messages; the push was only a hint). `close()` sends what is pending (within
 * the cap), waits for in-flight sends, then closes the providers.
 */
export class PushDispatcher {
  readonly platforms: readonly PushPlatform[];
  private readonly providers = new Map<PushPlatform, PushProvider>();
  private readonly coalescer: PushCoalescer;
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly log: Logger;
  private readonly maxConcurrent: number;
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  private closed = false;

  constructor(private readonly options: PushDispatcherOptions) {
    for (const p of options.providers) {
      if (this.providers.has(p.platform)) throw new RangeError(`two push providers for ${p.platform}`);
      this.providers.set(p.platform, p);
    }
    this.platforms = [...this.providers.keys()];
    this.log = (options.logger ?? createLogger('push')).child({ component: 'push-dispatcher' });
    this.maxConcurrent = options.maxConcurrentSends ?? 64;
    const summarize = options.summarize ?? summarizeBatch;
    this.coalescer = new PushCoalescer(
      {
        windowMs: options.coalesceWindowMs ?? 2000,
        cap: options.userCap ?? 10,
        capIntervalMs: options.userCapIntervalMs ?? 60_000,
        now: options.now ?? Date.now,
      },
      (userId, batch) => {
        if (batch.count > 1) this.log.debug({ userId, count: batch.count }, 'coalesced pushes');
        let n: PushNotification;
        try {
          n = summarize(batch);
        } catch (err) {
          // Runs from a timer: a throw here would be an uncaught exception, i.e. a dead process.
          this.log.error({ err, userId }, 'summarize failed; using the default summary');
          n = summarizeBatch(batch);
        }
        this.track(this.sendNow(n));
      },
    );
  }

  /** Queues a notification; it is merged with others to the same user inside the window. */
  notify(n: PushNotification): void {
    if (this.closed) {
      this.log.debug({ userId: n.userId }, 'push after close ignored');
      return;
    }
    if (this.providers.size === 0) return;
    this.coalescer.add(n);
  }

  /**
   * Sends one notification to every device of the user now, bypassing coalescing and the cap (for
   * rare, important notices; chat messages go through `notify`). Never rejects.
   */
  async sendNow(n: PushNotification): Promise<PushReport> {
    const report: PushReport = { userId: n.userId, targets: 0, delivered: 0, skipped: 0, failures: [] };
    let targets: readonly PushTarget[];
    try {
      targets = dedupe(await this.options.targets(n.userId));
    } catch (err) {
      this.log.warn({ err, userId: n.userId }, 'could not look up push targets');
      return report;
    }
    report.targets = targets.length;
    await Promise.all(
      targets.map(async (target) => {
        const provider =
          this.providers.get(target.platform) ??
          (this.options.fallbackPlatform ? this.providers.get(this.options.fallbackPlatform) : undefined);
        if (!provider) {
          report.skipped++;
          return;
        }
        const result = await this.limited(() => provider.send(target, n));
        if (result.ok) {
          report.delivered++;
          return;
        }
        report.failures.push({ target, permanent: result.permanent, reason: result.reason });
        if (result.permanent) await this.reportDead(n.userId, target, result.reason);
      }),
    );
    try {
      this.options.onReport?.(n, report);
    } catch (err) {
      this.log.warn({ err, userId: n.userId }, 'onReport failed');
    }
    return report;
  }

  /**
   * Sends every pending batch now, except those held back by the per-user cap (they keep waiting
   * for their turn), and waits until all sends in flight are done.
   */
  async flush(): Promise<void> {
    this.coalescer.flushAll();
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.flush();
    const dropped = this.coalescer.close();
    if (dropped > 0) this.log.info({ users: dropped }, 'pushes held by the per-user cap dropped at close');
    await Promise.allSettled([...this.providers.values()].map((p) => p.close()));
  }

  private async reportDead(userId: number, target: PushTarget, reason: string): Promise<void> {
    this.log.info({ userId, platform: target.platform, reason }, 'push token is dead');
    try {
      await this.options.onPermanentFailure?.(userId, target, reason);
    } catch (err) {
      this.log.warn({ err, userId }, 'onPermanentFailure failed');
    }
  }

  private async limited(send: () => Promise<PushResult>): Promise<PushResult> {
    while (this.active >= this.maxConcurrent) await new Promise<void>((r) => this.waiting.push(r));
    this.active++;
    try {
      return await send();
    } catch (err) {
      // The port says send() never rejects; a provider that does must not take the batch down.
      return { ok: false, permanent: false, reason: `provider threw: ${String(err)}` };
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }

  private track(p: Promise<unknown>): void {
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
  }
}

function dedupe(targets: readonly PushTarget[]): PushTarget[] {
  const seen = new Set<string>();
  return targets.filter((t) => {
    const key = `${t.platform}\n${t.token}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
