import pino from 'pino';
import { MqimMetrics } from '@mqim/metrics';
import type { PushNotification } from '@mqim/push';
import { createSqliteStore, type Store } from '@mqim/store';
import { StoreOfflinePusher } from './offline.pusher';

describe('job - offline pusher', () => {
  let store: Store;
  const sent: PushNotification[] = [];
  let pusher: StoreOfflinePusher;

  beforeEach(async () => {
    sent.length = 0;
    store = await createSqliteStore({ filename: ':memory:' });
    pusher = new StoreOfflinePusher(
      store,
      { notify: (n) => sent.push(n) },
      new MqimMetrics({ defaultMetrics: false }),
      pino({ level: 'silent' }),
    );
  });
  afterEach(() => store.close());

  it('recall notice - same collapse key as the conversation, names the recalled message for the app to withdraw', async () => {
    const common = { sessionType: 1, sessionId: 4, fromUserId: 4, fromNickName: 'Ann' };
    await pusher.push([9], { ...common, serverMsgId: 7, msgType: 1, preview: 'wrong chat' });
    await pusher.push([9], {
      ...common,
      serverMsgId: 8,
      msgType: 8,
      preview: 'recalled a message',
      recalledMsgId: 7,
    });
    expect(sent.map((n) => n.collapseKey)).toEqual(['1:4', '1:4']);
    expect(sent[0]!.data).not.toHaveProperty('recalled_msg_id');
    expect(sent[1]).toMatchObject({
      userId: 9,
      title: 'Ann',
      body: 'recalled a message',
      data: { server_msg_id: '8', recalled_msg_id: '7' },
    });
  });

  it('recall notice - a muted conversation gets none', async () => {
    await store.mutes.set(9, 1, 4, true);
    await pusher.push([9], {
      sessionType: 1,
      sessionId: 4,
      serverMsgId: 8,
      msgType: 8,
      preview: 'recalled a message',
      recalledMsgId: 7,
    });
    expect(sent).toEqual([]);
  });
});
