import type { MessageBus, ReceivedMessage } from '@mqim/bus';
import type { ReceiptBuffer } from '@mqim/cache';
import type { Logger } from '@mqim/config';
import type { MqimMetrics } from '@mqim/metrics';
import { MqNames, mqim } from '@mqim/protocol';
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
  constructor(
    private readonly bus: MessageBus,
    private readonly names: MqNames,
    private readonly pusher: OfflinePusher,
    private readonly delayMs: number,
  ) {}

  async schedule(push: mqim.v1.IPushCheck, online: number[], offline: number[]): Promise<void> {
    const work: Promise<unknown>[] = [];
    if (offline.length) work.push(this.pusher.push(offline, push));
    if (online.length) {
      const body = mqim.v1.PushCheckDue.encode({ userIds: online, push }).finish();
      work.push(
        this.bus.publish({
          topic: this.names.pushCheck,
          body,
          deliverAt: Date.now() + this.delayMs,
          tag: 'check',
        }),
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
    let due: mqim.v1.PushCheckDue;
    try {
      due = mqim.v1.PushCheckDue.decode(msg.body);
    } catch (err) {
      this.logger.error({ err: (err as Error).message }, 'undecodable push check dropped');
      return;
    }
    const push = due.push;
    if (!push) return;
    const serverMsgId = Number(push.serverMsgId);
    const sessionId = Number(push.sessionId);
    const userIds = due.userIds.map(Number);
    const delivered = await Promise.all(
      userIds.map((u) => this.receipts.deliveredUpTo(u, push.sessionType ?? 0, sessionId)),
    );
    const missed = userIds.filter((_, i) => delivered[i] < serverMsgId);
    this.metrics.consumed.inc({ topic: 'push-check', result: missed.length ? 'undelivered' : 'delivered' });
    if (missed.length) await this.pusher.push(missed, push);
  }
}
