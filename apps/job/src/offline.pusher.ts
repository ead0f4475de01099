import type { Logger } from '@mqim/config';
import type { MqimMetrics } from '@mqim/metrics';
import type { mqim } from '@mqim/protocol';
import type { PushNotification } from '@mqim/push';
import type { SessionType, Store } from '@mqim/store';
import type { OfflinePusher } from './push-check';

/** The part of the push dispatcher the job uses (coalescing and caps happen behind it). */
export interface Notifier {
  notify(n: PushNotification): void;
}

const KIND: Record<number, string> = {
  2: '[file]',
  3: '[image]',
  4: '[voice]',
  5: '[video]',
  6: '[location]',
  10: '[call]',
};

/** Skips muted conversations, then hands one notification per user to the dispatcher. */
export class StoreOfflinePusher implements OfflinePusher {
  constructor(
    private readonly store: Store,
    private readonly notifier: Notifier,
    private readonly metrics: MqimMetrics,
    private readonly logger: Logger,
  ) {}

  async push(userIds: number[], check: mqim.v1.IPushCheck): Promise<void> {
    const sessionType = (check.sessionType ?? 1) as SessionType;
    const sessionId = Number(check.sessionId ?? 0);
    const muted = new Set(await this.store.mutes.mutedAmong(sessionType, sessionId, userIds));
    const body = check.preview || KIND[check.msgType ?? 0] || 'new message';
    // A recall notice: the same collapse key as the conversation's pushes, so it replaces the
    // recalled message's notification where the platform can (docs/push.md, "Recall").
    const recalled = Number(check.recalledMsgId ?? 0);
    for (const userId of userIds) {
      if (muted.has(userId)) continue;
      this.notifier.notify({
        userId,
        title: check.fromNickName || 'New message',
        body,
        collapseKey: `${sessionType}:${sessionId}`,
        data: {
          session_type: String(sessionType),
          session_id: String(sessionId),
          server_msg_id: String(check.serverMsgId ?? 0),
          ...(recalled ? { recalled_msg_id: String(recalled) } : {}),
        },
      });
      this.metrics.consumed.inc({ topic: 'push', result: 'notified' });
    }
    this.logger.debug({ users: userIds.length, muted: muted.size }, 'offline push');
  }
}
