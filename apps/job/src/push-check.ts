import { BatchPublisher, publishMetrics, type MessageBus, type ReceivedMessage } from '@mqim/bus';
import type { ReceiptBuffer, ReceiptKey } from '@mqim/cache';
import type { Logger } from '@mqim/config';
import type { MqimMetrics } from '@mqim/metrics';
import { MqNames, PUSH_CHECK_BATCH_TAG, mqim } from '@mqim/protocol';
import type { PushScheduler } from './delivery.consumer';

/** Whatever turns "user U missed message M" into a notification on U's devices. */
export interface OfflinePusher {
  push(userIds: number[], check: mqim.v1.IPushCheck): Promise<void>;
}

/**
 * Undelivered -> offline push. Recipients with no route at all are pushed at once; the others
 * get a check on the DELAY topic, which fires after `delayMs` and pushes only to those whose
 * delivery receipt has not reached the message by then.
 */
export class PushCheckScheduler implements PushScheduler {
  private readonly checks: BatchPublisher<mqim.v1.IPushCheckDue>;

  constructor(
    bus: MessageBus,
    private readonly names: MqNames,
    private readonly pusher: OfflinePusher,
    metrics: MqimMetrics,
    delayMs: number,
    /** Checks scheduled within this window share one delayed message. @default 10 */
    windowMs = 10,
  ) {
    this.checks = new BatchPublisher(bus, {
      encode: (checks) => mqim.v1.PushCheckDueBatch.encode({ checks: [...checks] }).finish(),
      sizeOf: (c) => 96 + (c.userIds?.length ?? 0) * 11 + (c.push?.preview?.length ?? 0) * 3,
      windowMs,
      deliverAfterMs: delayMs,
      onPublished: publishMetrics(metrics),
    });
  }

  async scheduleCheck(push: mqim.v1.IPushCheck, online: number[]): Promise<void> {
    if (online.length === 0) return;
    await this.checks.add({ topic: this.names.pushCheck, tag: PUSH_CHECK_BATCH_TAG }, [
      { userIds: online, push },
    ]);
  }

  async pushOffline(push: mqim.v1.IPushCheck, offline: number[]): Promise<void> {
    if (offline.length) await this.pusher.push(offline, push);
  }
}

export class PushCheckConsumer {
  constructor(
    private readonly receipts: ReceiptBuffer,
    private readonly pusher: OfflinePusher,
    private readonly metrics: MqimMetrics,
    private readonly logger: Logger,
  ) {}

  async handle(msg: ReceivedMessage): Promise<void> {
    let checks: mqim.v1.IPushCheckDue[];
    try {
      checks =
        msg.tag === PUSH_CHECK_BATCH_TAG
          ? mqim.v1.PushCheckDueBatch.decode(msg.body).checks
          : [mqim.v1.PushCheckDue.decode(msg.body)];
    } catch (err) {
      this.logger.error({ err: (err as Error).message }, 'undecodable push check dropped');
      return;
    }
    // Every member of every check of the batch in one lookup (one Redis pipeline): a 5,000-member
    // group message is one round trip, not 5,000.
    const due = checks.filter((c) => c.push && (c.userIds?.length ?? 0) > 0);
    const keys: ReceiptKey[] = [];
    for (const c of due) {
      const sessionType = c.push!.sessionType ?? 0;
      const sessionId = Number(c.push!.sessionId);
      for (const u of c.userIds!) keys.push({ userId: Number(u), sessionType, sessionId });
    }
    if (keys.length === 0) return;
    const delivered = await this.receipts.deliveredUpToMany(keys);
    let at = 0;
    const pushes: Promise<void>[] = [];
    for (const c of due) {
      const push = c.push!;
      const serverMsgId = Number(push.serverMsgId);
      const missed: number[] = [];
      for (const u of c.userIds!) if (delivered[at++]! < serverMsgId) missed.push(Number(u));
      this.metrics.consumed.inc({
        topic: 'push-check',
        result: missed.length ? 'undelivered' : 'delivered',
      });
      if (missed.length) pushes.push(this.pusher.push(missed, push));
    }
    await Promise.all(pushes);
  }
}
