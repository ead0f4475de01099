import { BatchPublisher, publishMetrics, type MessageBus, type ReceivedMessage } from '@mqim/bus';
import type { ReceiptBuffer } from '@mqim/cache';
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

  async schedule(push: mqim.v1.IPushCheck, online: number[], offline: number[]): Promise<void> {
    const work: Promise<unknown>[] = [];
    if (offline.length) work.push(this.pusher.push(offline, push));
    if (online.length) {
      work.push(
        this.checks.add({ topic: this.names.pushCheck, tag: PUSH_CHECK_BATCH_TAG }, [
          { userIds: online, push },
        ]),
      );
    }
    await Promise.all(work);
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
    await Promise.all(checks.map((due) => this.check(due)));
  }

  private async check(due: mqim.v1.IPushCheckDue): Promise<void> {
    const push = due.push;
    if (!push) return;
    const serverMsgId = Number(push.serverMsgId);
    const sessionId = Number(push.sessionId);
    const userIds = (due.userIds ?? []).map(Number);
    const delivered = await Promise.all(
      userIds.map((u) => this.receipts.deliveredUpTo(u, push.sessionType ?? 0, sessionId)),
    );
    const missed = userIds.filter((_, i) => delivered[i] < serverMsgId);
    this.metrics.consumed.inc({ topic: 'push-check', result: missed.length ? 'undelivered' : 'delivered' });
    if (missed.length) await this.pusher.push(missed, push);
  }
}
