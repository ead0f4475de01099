import pino from 'pino';
import { MemoryBus, type ReceivedMessage } from '@mqim/bus';
import { MemoryCache } from '@mqim/cache';
import { MqimMetrics } from '@mqim/metrics';
import { CIM, CommandId, MqNames, decodeIntents, mqim } from '@mqim/protocol';
import { StoreUnavailableError, createSqliteStore, type Store } from '@mqim/store';
import { waitFor } from '@mqim/testing';
import { Logic } from './logic';

/**
 * Issue 12 in logic, on the in-process bus with a real (SQLite) store: contact changes are
 * request-keyed (a redelivery after a failure makes one effect), typing is never stored nor
 * pushed, presence changes reach contacts with the state the routes hold, 0x0601 lists contacts.
 */
describe('logic - contacts, typing, presence', () => {
  const names = new MqNames('social');
  let bus: MemoryBus;
  let store: Store;
  let cache: MemoryCache;
  let logic: Logic;
  const frames: { connId: string; cmd: number; body: Uint8Array }[] = [];
  const intents: mqim.v1.DeliveryIntent[] = [];

  beforeEach(async () => {
    frames.length = 0;
    intents.length = 0;
    bus = new MemoryBus({ retryDelayMs: 20, logger: pino({ level: 'silent' }) });
    store = await createSqliteStore({ filename: ':memory:' });
    cache = new MemoryCache();
    for (const [userId, nickName] of [
      [1, 'alice'],
      [2, 'bob'],
      [3, 'carol'],
    ] as const)
      await store.users.create({ userId, nickName, userName: nickName });
    await bus.ensureTopics([...names.sharedTopics(), names.gateTopic('g1')]);
    await bus.ensureGroups([...names.sharedGroups(), names.gateGroupSpec('g1')]);
    await bus.subscribe(
      { topic: names.gate('g1'), group: names.gateGroup('g1') },
      async (m: ReceivedMessage) => {
        for (const c of mqim.v1.GateBatch.decode(m.body).commands)
          frames.push({ connId: c.connId ?? '', cmd: c.cmd ?? 0, body: c.body ?? new Uint8Array(0) });
      },
    );
    await bus.subscribe(
      { topic: names.deliver, group: names.jobDeliverGroup },
      async (m: ReceivedMessage) => {
        intents.push(...decodeIntents(m.body, m.tag));
      },
    );
    logic = new Logic(
      { topicPrefix: 'social', historyLimitMax: 100, maxMsgDataBytes: 1024, loginPolicy: 'many' },
      {
        bus,
        store,
        cache,
        metrics: new MqimMetrics({ defaultMetrics: false }),
        logger: pino({ level: 'silent' }),
      },
    );
    await logic.start();
  });

  afterEach(async () => {
    await logic.stop();
    await bus.close();
    await store.close();
  });

  let seq = 0;
  const publish = (userId: number, cmd: number, body: Uint8Array) =>
    bus.publish({
      topic: names.upstream,
      messageGroup: `u${userId}`,
      body: mqim.v1.UpstreamRequest.encode({
        gateId: 'g1',
        connId: `c${userId}`,
        userId,
        cmd,
        seq: ++seq,
        body,
        orderKey: `u${userId}`,
        receivedAtMs: Date.now(),
      }).finish(),
    });
  const answers = (userId: number, cmd: number) =>
    frames.filter((f) => f.connId === `c${userId}` && f.cmd === cmd);
  const errors = (userId: number) =>
    answers(userId, CommandId.ERROR_NOTIFY).map((f) => CIM.Ext.MqimErrorNotify.decode(f.body).errorName);
  const befriend = async (a: number, b: number) => {
    await store.contacts.request(a, b, '');
    await store.contacts.respond(b, a, true);
  };
  const route = (userId: number, connId: string) =>
    cache.routes.register({ userId, gateId: 'g1', connId, clientType: 0, loginAt: Date.now() }, 60_000);

  it('contacts - the store fails once during an accept: redelivered, one friendship, answered friends', async () => {
    await store.contacts.request(1, 2, 'hi');
    const respond = store.contacts.respond.bind(store.contacts);
    let calls = 0;
    store.contacts.respond = async (...args) => {
      if (calls++ === 0) throw new StoreUnavailableError('database down');
      return respond(...args);
    };
    await publish(
      2,
      CommandId.FRIEND_RESPOND_REQ,
      CIM.Social.MqimFriendRespondReq.encode({ fromUserId: 1, accept: true }).finish(),
    );
    await waitFor(() => answers(2, CommandId.FRIEND_RESPOND_RSP).length === 1, { timeoutMs: 5000 });
    expect(calls).toBe(2);
    expect(
      CIM.Social.MqimContactChangeRsp.decode(answers(2, CommandId.FRIEND_RESPOND_RSP)[0]!.body),
    ).toMatchObject({
      resultCode: 200,
      state: CIM.Social.MqimContactState.CONTACT_STATE_FRIENDS,
    });
    expect(await store.contacts.friendIds(1, 10)).toEqual([2]);
    await waitFor(() =>
      intents.some((i) => i.cmd === CommandId.CONTACT_NOTIFY && i.userIds.map(Number).includes(1)),
    );
    expect(errors(2)).toEqual([]);
  });

  it("0x0601 - lists the caller's contacts only, never the other users", async () => {
    await befriend(1, 3);
    await publish(1, CommandId.FRIEND_QUERY_USER_LIST_REQ, new Uint8Array(0));
    await waitFor(() => answers(1, CommandId.FRIEND_QUERY_USER_LIST_RSP).length === 1);
    const rsp = CIM.Friend.CIMFriendQueryUserListRsp.decode(
      answers(1, CommandId.FRIEND_QUERY_USER_LIST_RSP)[0]!.body,
    );
    expect(rsp.userInfoList.map((u) => [Number(u.userId), u.nickName])).toEqual([[3, 'carol']]);
  });

  it('contacts - a flood of friend requests is refused past the burst; removing a stranger tells nobody', async () => {
    // 30 at once against a burst of 20 that refills at 0.5/s: some are refused however slow the machine.
    for (let i = 0; i < 30; i++)
      await publish(
        1,
        CommandId.FRIEND_REQUEST_REQ,
        CIM.Social.MqimFriendRequestReq.encode({ toUserId: 2 }).finish(),
      );
    await waitFor(() => answers(1, CommandId.FRIEND_REQUEST_RSP).length + errors(1).length === 30);
    expect(answers(1, CommandId.FRIEND_REQUEST_RSP).length).toBeGreaterThanOrEqual(20);
    expect(errors(1).length).toBeGreaterThan(0);
    expect(new Set(errors(1))).toEqual(new Set(['IM_ERR_USER_RATE_LIMITED']));
    expect((await store.contacts.requests(2, 10)).incoming).toHaveLength(1);

    const noticesBefore = intents.filter((i) => i.cmd === CommandId.CONTACT_NOTIFY).length;
    await publish(
      3,
      CommandId.FRIEND_REMOVE_REQ,
      CIM.Social.MqimFriendRemoveReq.encode({ peerUserId: 2 }).finish(),
    );
    await waitFor(() => answers(3, CommandId.FRIEND_REMOVE_RSP).length === 1);
    expect(intents.filter((i) => i.cmd === CommandId.CONTACT_NOTIFY)).toHaveLength(noticesBefore);
  });

  it('typing - a delivery without a push check, nothing stored; strangers and blocked users refused', async () => {
    await befriend(1, 2);
    await publish(1, CommandId.TYPING, CIM.Social.MqimTypingReq.encode({ peerUserId: 2, state: 1 }).finish());
    await waitFor(() => intents.find((i) => i.cmd === CommandId.TYPING_NOTIFY));
    const intent = intents.find((i) => i.cmd === CommandId.TYPING_NOTIFY)!;
    expect(intent.userIds.map(Number)).toEqual([2]);
    expect(intent.push).toBeNull();
    expect(await store.sessions.get(1, 1, 2)).toBeNull();

    await publish(1, CommandId.TYPING, CIM.Social.MqimTypingReq.encode({ peerUserId: 3, state: 1 }).finish());
    await store.contacts.setBlocked(2, 1, true);
    await publish(1, CommandId.TYPING, CIM.Social.MqimTypingReq.encode({ peerUserId: 2, state: 1 }).finish());
    await publish(1, CommandId.TYPING, CIM.Social.MqimTypingReq.encode({ peerUserId: 2, state: 7 }).finish());
    await waitFor(() => errors(1).length === 3);
    expect(errors(1)).toEqual(['IM_ERR_FORBIDDEN', 'IM_ERR_BLOCKED', 'IM_ERR_INVALID_ARGUMENT']);
    expect(intents.filter((i) => i.cmd === CommandId.TYPING_NOTIFY)).toHaveLength(1);
  });

  it("presence - contacts get the routes' state: online while any device is, offline after the last", async () => {
    await befriend(1, 2);
    await befriend(1, 3);
    const changed = (online: boolean) =>
      publish(1, CommandId.PRESENCE_CHANGED, CIM.Social.MqimPresenceChanged.encode({ online }).finish());
    const notices = () =>
      intents
        .filter((i) => i.cmd === CommandId.PRESENCE_NOTIFY)
        .map((i) => {
          // Read through the decoded object: proto3 defaults (false, 0) live on its prototype.
          const p = CIM.Social.MqimPresenceNotify.decode(i.body).presence!;
          return { to: i.userIds.map(Number), online: p.online, devices: p.devices };
        });

    await route(1, 'a');
    await route(1, 'b');
    await changed(true);
    await waitFor(() => notices().length === 1);
    await cache.routes.unregister(1, 'g1', 'a');
    await changed(false);
    await waitFor(() => notices().length === 2);
    await cache.routes.unregister(1, 'g1', 'b');
    await changed(false);
    await waitFor(() => notices().length === 3);
    expect(notices().map((n) => [n.to, n.online, n.devices])).toEqual([
      [[2, 3], true, 2],
      [[2, 3], true, 1],
      [[2, 3], false, 0],
    ]);
  });
});
