import type { MessageBus, ReceivedMessage, Subscription } from '@mqim/bus';
import type { Logger } from '@mqim/config';
import { conversationKey, isClientFault, type MqNames } from '@mqim/protocol';
import type { NewScheduledMessage, ScheduledMessage, Store } from '@mqim/store';
import { UpstreamRefusedError, type UpstreamClient } from './upstream.client';

export interface SchedulerOptions {
  /** A message due within this is given a broker timer (RocketMQ's delay range). @default 86400000 */
  armWithinMs: number;
  /** How often the store is scanned for messages to arm and for lost timers. @default 1000 */
  scanMs: number;
  /** A message this late and untouched is fired again (its timer or its sender was lost). @default 30000 */
  graceMs: number;
}

const DUE_TAG = 'due';

/** The client_msg_id a scheduled message is sent with: sending it twice stores it once. */
export function scheduledClientMsgId(scheduleId: number): string {
  return `sch-${scheduleId}`;
}

/**
 * Scheduled messages (ADR 0016), run by every api process (they share the work through one
 * consumer group). The store is the truth: a row per message. A message due within `armWithinMs`
 * gets a timer, a message on the broker's delay topic (`<prefix>-schedule`, `deliverAt` = its send
 * time), published by whichever process's scan gets to arm that version first; messages further
 * ahead wait in the store until a scan finds them within range. When the timer fires, the message
 * is claimed (a conditional update: cancelled, rescheduled or sent ones are skipped) and sent as
 * its user through the clients' path with client_msg_id `sch-<id>`, so a second send of it — a
 * redelivered timer, a timer re-published for a message whose sender died, two processes — is
 * answered from the store and stored once. Lost timers (a broker that lost them, a process that
 * died mid-send) are found by the scan once `graceMs` late and fired again.
 */
export class MessageScheduler {
  private sub?: Subscription;
  private timer?: NodeJS.Timeout;
  private scanning?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly deps: {
      bus: MessageBus;
      store: Store;
      names: MqNames;
      upstream: UpstreamClient;
      logger: Logger;
    },
    private readonly options: SchedulerOptions,
  ) {}

  async start(): Promise<void> {
    const { bus, names } = this.deps;
    // Provisioned like the api's own topic: an existing cluster needs no manual step.
    await bus.ensureTopics([{ name: names.schedule, kind: 'delay', queues: 4 }]);
    await bus.ensureGroups([{ name: names.apiScheduleGroup, orderly: false }]);
    this.sub = await bus.subscribe(
      { topic: names.schedule, group: names.apiScheduleGroup, concurrency: 16, invisibleMs: 60_000 },
      (m) => this.onDue(m),
    );
    this.timer = setInterval(() => this.scanSoon(), this.options.scanMs);
    this.timer.unref();
    this.scanSoon();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.scanning;
    await this.sub?.close();
  }

  /** Stores the message and arms it at once when it is due within range. */
  async schedule(message: NewScheduledMessage): Promise<ScheduledMessage> {
    const row = await this.deps.store.schedules.create(message);
    this.scanSoon();
    return row;
  }

  async reschedule(
    scheduleId: number,
    userId: number,
    sendAtMs: number,
  ): Promise<ScheduledMessage | 'not_found' | 'too_late'> {
    const r = await this.deps.store.schedules.reschedule(scheduleId, userId, sendAtMs);
    if (typeof r !== 'string') this.scanSoon();
    return r;
  }

  /** Runs a scan now unless one runs; resolves when it is done (for tests). */
  scanSoon(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.scanning ??= this.scan()
      .catch((err: Error) => this.deps.logger.warn({ err: err.message }, 'schedule scan failed'))
      .finally(() => (this.scanning = undefined));
    return this.scanning;
  }

  private async scan(): Promise<void> {
    const { store } = this.deps;
    const now = Date.now();
    for (const row of await store.schedules.toArm(now + this.options.armWithinMs, 500)) {
      // Whoever marks the version armed publishes its timer; the others skip it.
      if (await store.schedules.markArmed(row.scheduleId, row.version))
        await this.publishDue(row.scheduleId, row.version, row.sendAtMs);
    }
    for (const row of await store.schedules.overdue(now - this.options.graceMs, 100)) {
      this.deps.logger.warn(
        { scheduleId: row.scheduleId, status: row.status, lateMs: now - row.sendAtMs },
        'scheduled message late: firing it again',
      );
      await store.schedules.touch(row.scheduleId);
      await this.publishDue(row.scheduleId, row.version, now);
    }
  }

  private publishDue(id: number, v: number, atMs: number): Promise<string> {
    return this.deps.bus.publish({
      topic: this.deps.names.schedule,
      body: Buffer.from(JSON.stringify({ id, v })),
      tag: DUE_TAG,
      keys: [scheduledClientMsgId(id)],
      deliverAt: Math.max(atMs, Date.now()),
    });
  }

  private async onDue(m: ReceivedMessage): Promise<void> {
    let due: { id: number; v: number };
    try {
      due = JSON.parse(Buffer.from(m.body).toString('utf8')) as { id: number; v: number };
      if (!Number.isSafeInteger(due.id) || due.id <= 0 || !Number.isSafeInteger(due.v))
        throw new Error('bad ids');
    } catch {
      this.deps.logger.error({ id: m.id }, 'undecodable schedule timer dropped');
      return;
    }
    const { store, upstream } = this.deps;
    const row = await store.schedules.get(due.id);
    if (!row || row.version !== due.v || (row.status !== 'pending' && row.status !== 'firing')) return;
    // A timer that came early (broker precision, clock skew): wait for the rest.
    if (row.sendAtMs > Date.now() + 1000) {
      await this.publishDue(row.scheduleId, row.version, row.sendAtMs);
      return;
    }
    if (!(await store.schedules.claim(row.scheduleId, row.version))) return;
    try {
      const ack = await upstream.sendMessage(
        row.userId,
        {
          fromUserId: row.userId,
          toSessionId: row.toSessionId,
          clientMsgId: scheduledClientMsgId(row.scheduleId),
          sessionType: row.sessionType,
          msgType: row.msgType,
          msgData: row.msgData,
        },
        conversationKey(row.sessionType, row.userId, row.toSessionId),
        row.systemSender,
        // Only the business server's rows go out as its sends (a client's cannot forge msg_type 9).
        row.createdByApi,
      );
      await store.schedules.finish(row.scheduleId, row.version, { serverMsgId: Number(ack.serverMsgId) });
    } catch (err) {
      // Only a refusal of the message itself is final; a transient one (IM_ERR_UNAVAILABLE: a hook
      // down) leaves it firing, so the timer's redelivery (or the overdue scan) sends it again.
      if (err instanceof UpstreamRefusedError && isClientFault(err)) {
        this.deps.logger.warn({ scheduleId: row.scheduleId, code: err.code }, 'scheduled message refused');
        await store.schedules.finish(row.scheduleId, row.version, { error: err.code });
        return;
      }
      // Timeout, bus or store down: the timer comes again (and the scan, once late).
      throw err;
    }
  }
}
