import pino from 'pino';
import { MemoryBus, type OutgoingMessage } from '@mqim/bus';
import { MemoryCache } from '@mqim/cache';
import { MqimMetrics } from '@mqim/metrics';
import { CIM, CommandId, MqNames, decodeIntents, longToNumber, mqim } from '@mqim/protocol';
import { createSqliteStore, type Store } from '@mqim/store';
import { waitFor } from '@mqim/testing';
import { Logic } from './logic';
import { FailOnce } from './testing/fail-once';

/**
 * Recall under redelivery (docs/adr/0013, ADR 0009's rule): the request fails once at each step
 * after its decision — the mark, the notice, the deliveries, the answer, the events — comes back,
 * and still leaves one mark, one notice, the notify for every device, one answer, and events with
 * the same ids. And the checks that refuse it.
 */
describe('logic - recall is request-keyed: a retry finishes what its first attempt began', () => {
  const names = new MqNames('rcl');
  const [ANN, BEN, CAT] = [1, 2, 3];
  let bus: MemoryBus;
  let real: Store;
  let logic: Logic;
  let metrics: MqimMetrics;
  const fail = new FailOnce();
  const { armed: failOnce, failures, unavailable, failable } = fail;
  const replies: { cmd: number; body: Uint8Array }[] = [];
  const intents: { cmd: number; key: string; body: Uint8Array; userIds: number[] }[] = [];
  const events: mqim.v1.IEvent[] = [];

  beforeEach(async () => {
    replies.length = 0;
    intents.length = 0;
    events.length = 0;
    fail.reset();
    bus = new MemoryBus({ retryDelayMs: 10, logger: pino({ level: 'silent' }) });
    real = await createSqliteStore({ filename: ':memory:' });
    const messages = failable(failable(real.messages, 'recall', 'messages.recall'), 'save', 'messages.save');
    const store = Object.assign(Object.create(real) as Store, { messages });
    const publish = bus.publish.bind(bus);
    bus.publish = async (m: OutgoingMessage) => {
      const toGate = m.topic === names.gate('g1');
      const step =
        m.topic === names.deliver
          ? 'bus.deliver'
          : toGate
            ? 'bus.reply'
            : m.topic === names.events
              ? 'bus.events'
              : '';
      if (step && failOnce.delete(step)) throw unavailable(step);
      const id = await publish(m);
      if (toGate)
        for (const c of mqim.v1.GateBatch.decode(m.body).commands)
          replies.push({ cmd: c.cmd ?? 0, body: c.body ?? new Uint8Array(0) });
      if (m.topic === names.deliver)
        for (const i of decodeIntents(m.body, m.tag))
          intents.push({ cmd: i.cmd, key: i.orderKey, body: i.body, userIds: i.userIds.map(longToNumber) });
      if (m.topic === names.events) events.push(...mqim.v1.EventBatch.decode(m.body).events);
      return id;
    };
    for (let u = 1; u <= 3; u++) await real.users.create({ userId: u, nickName: `u${u}` });
    await bus.ensureTopics([...names.sharedTopics(), names.gateTopic('g1')]);
    await bus.ensureGroups([...names.sharedGroups(), names.gateGroupSpec('g1')]);
    metrics = new MqimMetrics({ defaultMetrics: false });
    logic = new Logic(
      {
        topicPrefix: 'rcl',
        historyLimitMax: 100,
        maxMsgDataBytes: 1024,
        loginPolicy: 'many',
        recallWindowSec: 60,
      },
      { bus, store, cache: new MemoryCache(), metrics, logger: pino({ level: 'silent' }) },
    );
    await logic.start();
  });

  afterEach(async () => {
    await logic.stop();
    await bus.close();
  });

  let seq = 0;
  const recall = async (
    userId: number,
    sessionType: number,
    sessionId: number,
    serverMsgId: number,
    orderKey: string,
  ) => {
    const body = CIM.Ext.MqimRecallReq.encode({ sessionType, sessionId, serverMsgId }).finish();
    await bus.publish({
      topic: names.upstream,
      messageGroup: orderKey,
      body: mqim.v1.UpstreamRequest.encode({
        gateId: 'g1',
        connId: `c${userId}`,
        userId,
        cmd: CommandId.RECALL_REQ,
        seq: ++seq,
        body,
        orderKey,
        receivedAtMs: Date.now(),
      }).finish(),
    });
  };

  const consumed = async (result: string) =>
    (await metrics.consumed.get()).values.find(
      (v) => v.labels.topic === 'upstream' && v.labels.result === result,
    )?.value ?? 0;

  /** A message stored directly (ids 1.., the cache seeds its counter from the store). */
  const stored = async (
    from: number,
    to: number,
    id: number,
    type: 1 | 2 = 1,
    owners = [from, to],
    ageSec = 0,
  ) => {
    await real.messages.save(
      {
        serverMsgId: id,
        clientMsgId: `m-${from}-${to}-${id}`,
        fromUserId: from,
        sessionType: type,
        toSessionId: to,
        msgType: 1,
        msgData: Buffer.from(`text ${id}`),
        createTime: Math.floor(Date.now() / 1000) - ageSec,
      },
      owners,
    );
  };

  it.each(['messages.recall', 'messages.save', 'bus.deliver', 'bus.reply', 'bus.events'])(
    'recall - fails once at %s: one mark, one notice, every device told, answered 200 (a repeat is the same answer)',
    async (step) => {
      await stored(ANN, BEN, 1);
      await stored(BEN, ANN, 2);
      failOnce.add(step);
      await recall(ANN, 1, BEN, 1, 's:1:2');
      // Done once the answer, both deliveries and both events are stored (the retry's, after a
      // failure); a publish that went through before the failure may be repeated, same ids.
      await waitFor(
        () =>
          replies.some((r) => r.cmd === CommandId.RECALL_RSP) &&
          intents.some((i) => i.cmd === CommandId.RECALL_NOTIFY) &&
          intents.some((i) => i.cmd === CommandId.MSG_DATA) &&
          new Set(events.map((e) => e.eventId)).size === 2,
        { timeoutMs: 5000, message: 'recall not finished' },
      );
      expect(failures).toEqual([step]);
      const answers = replies
        .filter((r) => r.cmd === CommandId.RECALL_RSP)
        .map((r) => CIM.Ext.MqimRecallRsp.decode(r.body));
      expect(new Set(answers.map((a) => JSON.stringify(a.toJSON())))).toHaveProperty('size', 1);
      expect(answers[0]!.resultCode).toBe(200);
      expect(longToNumber(answers[0]!.serverMsgId)).toBe(1);

      for (const [owner, peer] of [
        [ANN, BEN],
        [BEN, ANN],
      ] as const) {
        const page = await real.messages.history(owner, 1, peer, { limit: 10 });
        expect(page.map((m) => [m.serverMsgId, m.recalled !== undefined, m.msgType])).toEqual([
          [1, true, 1],
          [2, false, 1],
          [3, false, CIM.Def.CIMMsgType.MSG_TYPE_TIPS],
        ]);
      }
      // The conversation's lane, both users' devices.
      const notifies = intents.filter((i) => i.cmd === CommandId.RECALL_NOTIFY);
      expect(notifies.length).toBeGreaterThanOrEqual(1);
      expect(notifies.every((i) => i.key === 's:1:2' && [...i.userIds].sort().join() === '1,2')).toBe(true);
      const notice = intents.filter((i) => i.cmd === CommandId.MSG_DATA);
      expect(
        new Set(notice.map((i) => longToNumber(CIM.Message.CIMMsgData.decode(i.body).serverMsgId))),
      ).toEqual(new Set([3]));
      const ids = new Set(events.map((e) => e.eventId));
      expect(ids).toEqual(new Set(['recall/s:1:2/1', 'msg/s:1:2/3']));
    },
  );

  it('recall - a client repeating a done recall is answered the same and fans out nothing again', async () => {
    await stored(ANN, BEN, 1);
    await recall(ANN, 1, BEN, 1, 's:1:2');
    await waitFor(() => new Set(events.map((e) => e.eventId)).size === 2, {
      timeoutMs: 3000,
      message: 'not done',
    });
    const [fanOut, published] = [intents.length, events.length];
    await recall(ANN, 1, BEN, 1, 's:1:2');
    await waitFor(() => replies.filter((r) => r.cmd === CommandId.RECALL_RSP).length === 2, {
      timeoutMs: 3000,
      message: 'repeat not answered',
    });
    const [first, again] = replies
      .filter((r) => r.cmd === CommandId.RECALL_RSP)
      .map((r) => CIM.Ext.MqimRecallRsp.decode(r.body));
    expect(again!.toJSON()).toEqual(first!.toJSON());
    expect([intents.length, events.length]).toEqual([fanOut, published]);
    expect((await real.messages.history(BEN, 1, ANN, { limit: 10 })).map((m) => m.msgType)).toEqual([1, 8]);
  });

  it('recall - refused: the peer, past the window, a notice; nothing is marked or stored', async () => {
    await stored(ANN, BEN, 1);
    await stored(ANN, BEN, 2, 1, [ANN, BEN], 3600);
    await recall(BEN, 1, ANN, 1, 's:1:2'); // not the sender
    await recall(ANN, 1, BEN, 2, 's:1:2'); // an hour old, window 60 s
    await recall(ANN, 1, BEN, 9, 's:1:2'); // no such message
    await recall(ANN, 5, BEN, 1, 'u1'); // no such session type
    await waitFor(async () => (await consumed('refused')) === 4, { timeoutMs: 3000, message: 'not refused' });
    const refusals = replies
      .filter((r) => r.cmd === CommandId.ERROR_NOTIFY)
      .map((r) => CIM.Ext.MqimErrorNotify.decode(r.body).errorName)
      .sort();
    expect(refusals).toEqual([
      'IM_ERR_FORBIDDEN',
      'IM_ERR_INVALID_ARGUMENT',
      'IM_ERR_NOT_FOUND',
      'IM_ERR_RECALL_WINDOW_PASSED',
    ]);
    expect((await real.messages.history(BEN, 1, ANN, { limit: 10 })).map((m) => m.recalled)).toEqual([
      undefined,
      undefined,
    ]);
    expect(intents).toEqual([]);
    expect(events).toEqual([]);
  });

  it('recall - a group: the owner may recall a member message, another member may not; every member is told', async () => {
    const group = await real.groups.create({ name: 'g', ownerUserId: ANN }, [BEN, CAT]);
    const g = group.groupId;
    await stored(BEN, g, 1, 2, [ANN, BEN, CAT]);
    await recall(CAT, 2, g, 1, `g:${g}`);
    await recall(ANN, 2, g, 1, `g:${g}`);
    await waitFor(() => intents.some((i) => i.cmd === CommandId.RECALL_NOTIFY) && events.length >= 2, {
      timeoutMs: 3000,
      message: 'not handled',
    });
    expect(
      replies
        .filter((r) => r.cmd === CommandId.ERROR_NOTIFY)
        .map((r) => CIM.Ext.MqimErrorNotify.decode(r.body).errorName),
    ).toEqual(['IM_ERR_FORBIDDEN']);
    const notify = intents.find((i) => i.cmd === CommandId.RECALL_NOTIFY)!;
    expect([...notify.userIds].sort()).toEqual([ANN, BEN, CAT]);
    const n = CIM.Ext.MqimRecallNotify.decode(notify.body);
    expect([longToNumber(n.recalledBy), longToNumber(n.serverMsgId)]).toEqual([ANN, 1]);
    expect(longToNumber(CIM.Ext.MqimRecallNotify.decode(notify.body).fromUserId)).toBe(BEN);
    expect((await real.messages.get(CAT, 2, g, 1))?.recalled).toMatchObject({ recalledBy: ANN });
  });

  it('recall - a group admin may recall a member message too (ADR 0015: moderators are owner and admins)', async () => {
    const group = await real.groups.create({ name: 'g', ownerUserId: ANN }, [BEN, CAT]);
    const g = group.groupId;
    await real.groups.setAdmin(g, CAT, true);
    await stored(BEN, g, 1, 2, [ANN, BEN, CAT]);
    await recall(CAT, 2, g, 1, `g:${g}`);
    await waitFor(() => intents.some((i) => i.cmd === CommandId.RECALL_NOTIFY), {
      timeoutMs: 3000,
      message: 'the admin recall was not handled',
    });
    expect(replies.filter((r) => r.cmd === CommandId.ERROR_NOTIFY)).toEqual([]);
    expect((await real.messages.get(ANN, 2, g, 1))?.recalled).toMatchObject({ recalledBy: CAT });
  });
});
