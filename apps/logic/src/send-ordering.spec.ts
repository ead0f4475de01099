import pino from 'pino';
import { MemoryBus, type ReceivedMessage } from '@mqim/bus';
import { MemoryCache } from '@mqim/cache';
import { MqimMetrics } from '@mqim/metrics';
import { CIM, CommandId, MqNames, decodeEvents, mqim } from '@mqim/protocol';
import { createSqliteStore, type NewMessage, type Store } from '@mqim/store';
import { waitFor } from '@mqim/testing';
import { Logic } from './logic';

/**
 * Regression tests for the order of effects in a send (DESIGN invariants 1 and 2): the sender's
 * ack is published only after the message is stored, a failed store publishes nothing and leaves
 * the request unacked so it comes back, and the retry stores once and acks with one id.
 */
describe('logic - send acks only after the message is stored', () => {
  const names = new MqNames('order');
  let bus: MemoryBus;
  let store: Store;
  let logic: Logic;
  const gateFrames: { cmd: number; body: Uint8Array; at: number }[] = [];
  let saveGate: { failNext: boolean; hold?: Promise<void>; entered: number; savedAt: number[] };
  let metrics: MqimMetrics;
  /** MSG_DATA_ACKs stored on the gate topic, counted as the bus stores them (not as delivered). */
  let ackedStored: number;

  beforeEach(async () => {
    bus = new MemoryBus({ retryDelayMs: 20, logger: pino({ level: 'silent' }) });
    const real = await createSqliteStore({ filename: ':memory:' });
    saveGate = { failNext: false, entered: 0, savedAt: [] };
    metrics = new MqimMetrics({ defaultMetrics: false });
    ackedStored = 0;
    // The store as logic sees it, with a save that can be held or made to fail once.
    const messages = Object.create(real.messages) as Store['messages'];
    messages.save = async (m: NewMessage, owners: readonly number[]) => {
      saveGate.entered++;
      await saveGate.hold;
      if (saveGate.failNext) {
        saveGate.failNext = false;
        throw Object.assign(new Error('database went away'), { code: 'IM_ERR_STORE_UNAVAILABLE' });
      }
      const r = await real.messages.save(m, owners);
      saveGate.savedAt.push(Date.now());
      return r;
    };
    store = Object.assign(Object.create(real) as Store, {
      messages,
      users: real.users,
      groups: real.groups,
      sessions: real.sessions,
    });
    await real.users.create({ userId: 1, nickName: 'a' });
    await real.users.create({ userId: 2, nickName: 'b' });
    const publish = bus.publish.bind(bus);
    bus.publish = async (m) => {
      const id = await publish(m);
      if (m.topic === names.gate('g1'))
        for (const c of mqim.v1.GateBatch.decode(m.body).commands)
          if (c.cmd === CommandId.MSG_DATA_ACK) ackedStored++;
      return id;
    };
    await bus.ensureTopics([...names.sharedTopics(), names.gateTopic('g1')]);
    await bus.ensureGroups([...names.sharedGroups(), names.gateGroupSpec('g1')]);
    await bus.subscribe(
      { topic: names.gate('g1'), group: names.gateGroup('g1') },
      async (m: ReceivedMessage) => {
        for (const c of mqim.v1.GateBatch.decode(m.body).commands)
          gateFrames.push({ cmd: c.cmd ?? 0, body: c.body ?? new Uint8Array(0), at: Date.now() });
      },
    );
    logic = new Logic(
      { topicPrefix: 'order', historyLimitMax: 100, maxMsgDataBytes: 1024, loginPolicy: 'many' },
      {
        bus,
        store,
        cache: new MemoryCache(),
        metrics,
        logger: pino({ level: 'silent' }),
      },
    );
    await logic.start();
    gateFrames.length = 0;
  });

  afterEach(async () => {
    await logic.stop();
    await bus.close();
  });

  const publishSend = (clientMsgId: string) =>
    bus.publish({
      topic: names.upstream,
      messageGroup: 's:1:2',
      body: mqim.v1.UpstreamRequest.encode({
        gateId: 'g1',
        connId: 'c1',
        userId: 1,
        cmd: CommandId.MSG_DATA,
        seq: 5,
        body: CIM.Message.CIMMsgData.encode({
          fromUserId: 1,
          toSessionId: 2,
          clientMsgId,
          msgType: 1,
          sessionType: 1,
          msgData: Buffer.from('x'),
        }).finish(),
        receivedAtMs: Date.now(),
      }).finish(),
    });

  const acks = () =>
    gateFrames
      .filter((f) => f.cmd === CommandId.MSG_DATA_ACK)
      .map((f) => CIM.Message.CIMMsgDataAck.decode(f.body));

  it('ordering - no ack is published while the store has not committed', async () => {
    let release!: () => void;
    saveGate.hold = new Promise<void>((r) => (release = r));
    await publishSend('held-1');
    // The store is inside save and held there: whatever logic publishes first, it has by now.
    await waitFor(() => saveGate.entered === 1, { timeoutMs: 2000 });
    await new Promise((r) => setImmediate(r));
    expect(acks()).toHaveLength(0);
    release();
    await waitFor(() => acks().length === 1, { timeoutMs: 2000 });
    const ackAt = gateFrames.find((f) => f.cmd === CommandId.MSG_DATA_ACK)!.at;
    expect(ackAt).toBeGreaterThanOrEqual(saveGate.savedAt[0]);
  });

  it('ordering - a failed store publishes nothing; the redelivered request stores once and acks once', async () => {
    saveGate.failNext = true;
    await publishSend('retry-1');
    await waitFor(() => acks().length === 1, { timeoutMs: 3000, message: 'the request was not retried' });
    // Logic counts the request handled after its last publish: no second ack can follow.
    await waitFor(
      async () =>
        (await metrics.consumed.get()).values.find(
          (v) => v.labels.result === 'ok' && v.labels.topic === 'upstream',
        )?.value === 1,
      { timeoutMs: 3000 },
    );
    expect(ackedStored).toBe(1);
    expect(acks()).toHaveLength(1);
    expect(acks()[0]).toMatchObject({ clientMsgId: 'retry-1', resCode: CIM.Def.CIMResCode.RES_CODE_OK });
    const history = await store.messages.history(1, 1, 2, { limit: 10 });
    expect(history.map((m) => m.clientMsgId)).toEqual(['retry-1']);
  });

  it('tap - each stored message reaches the persisted stream once, in batches tagged by session type', async () => {
    await bus.ensureGroups([{ name: 'order-tap', orderly: false }]);
    const tapped: { tag?: string; records: mqim.v1.IPersistedMessage[] }[] = [];
    await bus.subscribe({ topic: names.persisted, group: 'order-tap' }, async (m) => {
      tapped.push({ tag: m.tag, records: mqim.v1.PersistedMessageBatch.decode(m.body).messages });
    });
    for (let i = 0; i < 20; i++) await publishSend(`tap-${i}`);
    await waitFor(() => tapped.flatMap((t) => t.records).length >= 20, { timeoutMs: 3000 });
    // A barrier in the same conversation: once it is tapped, a second copy of any of the 20
    // would have been tapped before it.
    await publishSend('tap-barrier');
    await waitFor(() => tapped.some((t) => t.records.some((r) => r.clientMsgId === 'tap-barrier')), {
      timeoutMs: 3000,
      message: 'the barrier message was not tapped',
    });
    const records = tapped.flatMap((t) => t.records).slice(0, -1);
    expect(tapped.flatMap((t) => t.records).at(-1)?.clientMsgId).toBe('tap-barrier');
    expect(records.map((r) => r.clientMsgId)).toEqual(Array.from({ length: 20 }, (_, i) => `tap-${i}`));
    expect(records.map((r) => Number(r.serverMsgId))).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(new Set(tapped.map((t) => t.tag))).toEqual(new Set(['single']));
    const first = records[0]!;
    expect([
      Number(first.fromUserId),
      Number(first.toSessionId),
      first.sessionType,
      first.msgDataSize,
    ]).toEqual([1, 2, 1, 1]);
  });

  describe('events', () => {
    const events: { tag?: string; event: mqim.v1.IEvent }[] = [];
    beforeEach(async () => {
      events.length = 0;
      await bus.ensureGroups([{ name: 'order-events', orderly: false }]);
      await bus.subscribe({ topic: names.events, group: 'order-events' }, async (m) => {
        for (const event of decodeEvents(m.body)) events.push({ tag: m.tag, event });
      });
    });

    it('events - a failed store publishes no event; the retry publishes MESSAGE_STORED keyed by the conversation', async () => {
      saveGate.failNext = true;
      await publishSend('ev-1');
      await waitFor(() => events.length === 1, { timeoutMs: 3000, message: 'the MESSAGE_STORED event' });
      // The event is published only after the save that committed, never for the failed one.
      expect(saveGate.savedAt).toHaveLength(1);
      expect(events[0]).toMatchObject({
        tag: 'message',
        event: {
          eventId: 'msg/s:1:2/1',
          type: mqim.v1.EventType.EVENT_TYPE_MESSAGE_STORED,
          source: 'logic',
          message: { clientMsgId: 'ev-1', sessionType: 1 },
        },
      });
      expect(Number(events[0]!.event.actorUserId)).toBe(1);
    });

    it('events - a replayed send publishes the same event id again (consumers drop it by that id)', async () => {
      await publishSend('ev-2');
      await publishSend('ev-2'); // the client's retry, or a redelivery after a crash
      await waitFor(() => events.length === 2, { timeoutMs: 3000, message: 'two publishes' });
      expect(events.map((e) => e.event.eventId)).toEqual(['msg/s:1:2/1', 'msg/s:1:2/1']);
      expect(await store.messages.history(1, 1, 2, { limit: 10 })).toHaveLength(1);
    });

    it('events - the stream costs no more publishes than the tap, batched the same way', async () => {
      const publishes = new Map<string, number>();
      const publish = bus.publish.bind(bus);
      bus.publish = (m) => {
        publishes.set(m.topic, (publishes.get(m.topic) ?? 0) + 1);
        return publish(m);
      };
      // 200 sends handed over at once. One conversation is handled in order, one send after the
      // other, and the memory bus stores at once, so here each send still leaves alone; on
      // RocketMQ the batches grow with the broker's round trip (docs/mq-topics.md).
      await Promise.all(Array.from({ length: 200 }, (_, i) => publishSend(`burst-${i}`)));
      await waitFor(() => events.length >= 200, { timeoutMs: 10_000, message: '200 MESSAGE_STORED events' });
      const onStream = publishes.get(names.events) ?? 0;
      const onTap = publishes.get(names.persisted) ?? 0;
      expect(new Set(events.map((e) => e.event.eventId)).size).toBe(200);
      expect(onTap).toBeGreaterThan(0);
      // The two publishers flush on their own timers, so a batch boundary can fall one send
      // apart between them; a stream that cost a publish per send would be far past this.
      expect(onStream).toBeLessThanOrEqual(onTap + Math.max(2, Math.ceil(onTap / 10)));
    });

    it('events - a read ack reports the mark the store now holds, not the id the client named', async () => {
      await publishSend('ev-3');
      await waitFor(() => events.length === 1, { timeoutMs: 3000 });
      await bus.publish({
        topic: names.upstream,
        messageGroup: 's:1:2',
        body: mqim.v1.UpstreamRequest.encode({
          gateId: 'g1',
          connId: 'c2',
          userId: 2,
          cmd: CommandId.MSG_READ_ACK,
          seq: 6,
          // Beyond the newest message: the store clamps it to 1.
          body: CIM.Message.CIMMsgDataReadAck.encode({
            userId: 2,
            sessionId: 1,
            msgId: 99,
            sessionType: 1,
          }).finish(),
          receivedAtMs: Date.now(),
        }).finish(),
      });
      await waitFor(() => events.length === 2, { timeoutMs: 3000, message: 'the READ event' });
      expect(events[1]).toMatchObject({
        tag: 'read',
        event: { eventId: 'read/2/1:1/1', type: mqim.v1.EventType.EVENT_TYPE_READ },
      });
      expect(Number(events[1]!.event.position!.msgId)).toBe(1);
      expect((await store.sessions.get(2, 1, 1))?.readUpTo).toBe(1);
    });
  });
});
