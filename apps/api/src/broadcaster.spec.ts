import { MemoryBus } from '@mqim/bus';
import { MemoryCache } from '@mqim/cache';
import { createLogger } from '@mqim/config';
import { CIM, CommandId, MqNames, decodeIntents, mqim } from '@mqim/protocol';
import { createSqliteStore, type Store } from '@mqim/store';
import { waitFor } from '@mqim/testing';
import { Broadcaster, type BroadcastRequest } from './broadcaster';

const names = new MqNames('bc');
const logger = createLogger('test', 'silent');

describe('broadcaster - pages of recipients, one delivery intent per page, paced', () => {
  let bus: MemoryBus;
  let store: Store;
  let cache: MemoryCache;
  let intents: Array<{ intent: mqim.v1.DeliveryIntent; at: number }>;
  const make = (o: Partial<{ pageSize: number; perSecond: number; maxQueued: number }> = {}) =>
    new Broadcaster(
      { bus, store, cache, names, logger },
      { pageSize: 10, perSecond: 1_000_000, maxQueued: 4, ...o },
    );
  const req = (audience: 'all' | 'online', from = 1): BroadcastRequest => ({
    from,
    fromNickName: 'System',
    audience,
    msgType: CIM.Def.CIMMsgType.MSG_TYPE_NOTIFICATION,
    msgData: Buffer.from('{"notificationType":1000,"data":{"text":"maintenance"}}'),
    preview: 'maintenance',
  });

  beforeEach(async () => {
    bus = new MemoryBus();
    await bus.ensureTopics(names.sharedTopics());
    await bus.ensureGroups(names.sharedGroups());
    store = await createSqliteStore({ filename: ':memory:' });
    cache = new MemoryCache();
    for (let i = 1; i <= 25; i++) await store.users.create({ nickName: `u${i}` });
    intents = [];
    await bus.subscribe({ topic: names.deliver, group: names.jobDeliverGroup }, async (m) => {
      for (const intent of decodeIntents(m.body, m.tag)) intents.push({ intent, at: Date.now() });
    });
  });
  afterEach(async () => {
    await bus.close();
    await cache.close();
    await store.close();
  });

  it('broadcast - all users: 25 users in pages of 10 are 3 publishes, the sender excluded, with an offline push check', async () => {
    const b = make();
    const st = b.submit(req('all'));
    await waitFor(() => b.get(st.broadcastId)?.state === 'done', { timeoutMs: 10_000 });
    await waitFor(() => intents.length === 3, { timeoutMs: 10_000 });
    const ids = intents.flatMap((i) => i.intent.userIds.map(Number)).sort((x, y) => x - y);
    expect(ids).toEqual(Array.from({ length: 24 }, (_, i) => i + 2));
    expect(b.get(st.broadcastId)).toMatchObject({ recipients: 24, pages: 3, state: 'done' });
    const first = intents[0]!.intent;
    expect(first.cmd).toBe(CommandId.MSG_DATA);
    const data = CIM.Message.CIMMsgData.decode(first.body);
    expect(data).toMatchObject({ msgType: 9, clientMsgId: `bc-${st.broadcastId}` });
    expect(Number(data.fromUserId)).toBe(1);
    expect(first.push).toMatchObject({ preview: 'maintenance' });
  });

  it('broadcast - users who block the sender are left out of every page', async () => {
    await store.contacts.setBlocked(3, 1, true);
    await store.contacts.setBlocked(15, 1, true);
    await store.contacts.setBlocked(4, 2, true); // blocks someone else: still reached
    const b = make();
    const st = b.submit(req('all'));
    await waitFor(() => b.get(st.broadcastId)?.state === 'done', { timeoutMs: 10_000 });
    await waitFor(() => intents.length === 3, { timeoutMs: 10_000 });
    const ids = intents.flatMap((i) => i.intent.userIds.map(Number)).sort((x, y) => x - y);
    expect(ids).toEqual(Array.from({ length: 24 }, (_, i) => i + 2).filter((id) => id !== 3 && id !== 15));
    expect(b.get(st.broadcastId)).toMatchObject({ recipients: 22, pages: 3 });
  });

  it('broadcast - online: only users with a route, no push', async () => {
    await cache.routes.register({ userId: 5, gateId: 'g1', connId: 'c1', clientType: 1, loginAt: 1 }, 60_000);
    await cache.routes.register({ userId: 7, gateId: 'g2', connId: 'c2', clientType: 1, loginAt: 1 }, 60_000);
    const b = make();
    const st = b.submit(req('online'));
    await waitFor(() => b.get(st.broadcastId)?.state === 'done', { timeoutMs: 10_000 });
    await waitFor(() => intents.length === 1, { timeoutMs: 10_000 });
    expect(intents[0]!.intent.userIds.map(Number)).toEqual([5, 7]);
    expect(intents[0]!.intent.push).toBeNull();
  });

  it('broadcast - pages are paced to the rate: 25 recipients at 50/s take about 0.4 s between first and last page', async () => {
    const b = make({ perSecond: 50 });
    const st = b.submit(req('all'));
    await waitFor(() => b.get(st.broadcastId)?.state === 'done', { timeoutMs: 10_000 });
    await waitFor(() => intents.length === 3, { timeoutMs: 10_000 });
    // Two pauses of 10 recipients at 50/s: at least 400 ms (never faster; slower is allowed).
    expect(intents[2]!.at - intents[0]!.at).toBeGreaterThanOrEqual(380);
  });

  it('broadcast - beyond maxQueued waiting broadcasts a new one is refused', async () => {
    const b = make({ perSecond: 1, maxQueued: 1 });
    const first = b.submit(req('all'));
    b.submit(req('all'));
    expect(() => b.submit(req('all'))).toThrow(/waiting/);
    b.stop();
    await waitFor(() => b.get(first.broadcastId)?.state === 'failed', { timeoutMs: 10_000 });
  });
});
