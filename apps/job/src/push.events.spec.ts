import { mqim } from '@mqim/protocol';
import type { PushNotification, PushReport } from '@mqim/push';
import { pushOutcomeEvent } from './push.events';

const n: PushNotification = {
  userId: 7,
  title: 'Ann',
  body: 'hi',
  data: { session_type: '1', session_id: '3', server_msg_id: '42' },
};
const report = (r: Partial<PushReport>): PushReport => ({
  userId: 7,
  targets: 2,
  delivered: 0,
  skipped: 0,
  failures: [],
  ...r,
});

describe('push events - what the job reports on the event stream for a push', () => {
  it('push events - a push any device took is PUSH_SENT, keyed by user, conversation and newest message', () => {
    expect(pushOutcomeEvent(n, report({ delivered: 1 }))).toMatchObject({
      eventId: 'push/7/1:3/42',
      type: mqim.v1.EventType.EVENT_TYPE_PUSH_SENT,
      push: { userId: 7, sessionType: 1, sessionId: 3, serverMsgId: 42 },
    });
  });

  it('push events - every device refusing is PUSH_FAILED with the platform and reason', () => {
    const failed = pushOutcomeEvent(
      n,
      report({
        failures: [{ target: { platform: 'fcm', token: 't' }, permanent: true, reason: 'UNREGISTERED' }],
      }),
    );
    expect(failed).toMatchObject({
      eventId: 'push/7/1:3/42',
      type: mqim.v1.EventType.EVENT_TYPE_PUSH_FAILED,
      push: { provider: 'fcm', error: 'UNREGISTERED' },
    });
  });

  it('push events - a user with no device that could be tried is no event', () => {
    expect(pushOutcomeEvent(n, report({ targets: 0 }))).toBeUndefined();
    expect(pushOutcomeEvent(n, report({ skipped: 2 }))).toBeUndefined();
  });
});
