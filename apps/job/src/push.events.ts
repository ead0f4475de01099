import { mqim, pushEventId } from '@mqim/protocol';
import type { PushNotification, PushReport } from '@mqim/push';

/**
 * PUSH_SENT / PUSH_FAILED for one push the dispatcher tried: sent when any device took it,
 * failed when every device that was tried refused it. A user without devices (or only devices of
 * platforms without a provider) was never pushed: no event. The push names the newest message it
 * reports (a coalesced push stands for several), which keys the event.
 */
export function pushOutcomeEvent(n: PushNotification, report: PushReport): mqim.v1.IEvent | undefined {
  if (report.delivered === 0 && report.failures.length === 0) return undefined;
  const sessionType = Number(n.data?.session_type ?? 0);
  const sessionId = Number(n.data?.session_id ?? 0);
  const serverMsgId = Number(n.data?.server_msg_id ?? 0);
  const sent = report.delivered > 0;
  const failure = report.failures[0];
  return {
    eventId: pushEventId(n.userId, sessionType, sessionId, serverMsgId),
    type: sent ? mqim.v1.EventType.EVENT_TYPE_PUSH_SENT : mqim.v1.EventType.EVENT_TYPE_PUSH_FAILED,
    actorUserId: 0,
    push: {
      userId: n.userId,
      sessionType,
      sessionId,
      serverMsgId,
      provider: sent ? '' : (failure?.target.platform ?? ''),
      error: sent ? '' : (failure?.reason ?? ''),
    },
  };
}
