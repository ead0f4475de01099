import pino from 'pino';
import { MemoryBus, type ReceivedMessage } from '@mqim/bus';
import { MemoryCache } from '@mqim/cache';
import { MqimMetrics } from '@mqim/metrics';
import {
  CIM,
  CommandId,
  MqNames,
  UPSTREAM_BATCH_TAG,
  decodeIntents,
  encodeUpstreamBatch,
  laneGroup,
  laneOf,
  longToNumber,
  mqim,
} from '@mqim/protocol';
import { createSqliteStore, type NewMessage, type Store } from '@mqim/store';
import { waitFor } from '@mqim/testing';
import { Logic } from './logic';

/**
 * Regression tests for the batched upstream hop (issue 9): many conversations share a lane and a
 * batch, a failure in one conversation redelivers the batch, and still every conversation is
 * stored, acked and handed to the job in its send order, each message exactly once.
 */
describe('logic - per-conversation order across lanes and batches under redelivery', () => {
  const names = new MqNames('lanes');
  const LANES = 3; // few lanes, so several conversations share each
  let bus: MemoryBus;
  let store: Store;
  let logic: Logic;
  let failOnce: Set<string>;
  const acks: { connId: string; clientMsgId: string; serverMsgId: number }[] = [];
  const intents: { key: string; clientMsgId: string; serverMsgId: number }[] = [];

  beforeEach(async () => {
    acks.length = 0;
    intents.length = 0;
    failOnce = new Set();
    bus = new MemoryBus({ retryDelayMs: 10, logger: pino({ level: 'silent' }) });
    const real = await createSqliteStore({ filename: ':memory:' });
    const messages = Object.create(real.messages) as Store['messages'];
    messages.save = async (m: NewMessage, owners: readonly number[]) => {
      if (failOnce.delete(m.clientMsgId))
        throw Object.assign(new Error('database went away'), { code: 'IM_ERR_STORE_UNAVAILABLE' });
      return real.messages.save(m, owners);
    };
    store = Object.assign(Object.create(real) as Store, { messages });
    for (let u = 1; u <= 12; u++) await real.users.create({ userId: u, nickName: `u${u}` });
    await bus.ensureTopics([...names.sharedTopics(), names.gateTopic('g1')]);
    await bus.ensureGroups([
      ...names.sharedGroups(),
      names.gateGroupSpec('g1'),
      { name: 'lanes-watch', orderly: true },
    ]);
    await bus.subscribe(
      { topic: names.gate('g1'), group: names.gateGroup('g1') },
      async (m: ReceivedMessage) => {
        for (const c of mqim.v1.GateBatch.decode(m.body).commands) {
          if (c.cmd !== CommandId.MSG_DATA_ACK) continue;
          const ack = CIM.Message.CIMMsgDataAck.decode(c.body ?? new Uint8Array(0));
          acks.push({
            connId: c.connId ?? '',
            clientMsgId: ack.clientMsgId,
            serverMsgId: longToNumber(ack.serverMsgId),
          });
        }
      },
    );
    await bus.subscribe({ topic: names.deliver, group: 'lanes-watch' }, async (m) => {
      for (const intent of decodeIntents(m.body, m.tag)) {
        const data = CIM.Message.CIMMsgData.decode(intent.body);
        intents.push({
          key: intent.orderKey,
          clientMsgId: data.clientMsgId,
          serverMsgId: longToNumber(data.serverMsgId),
        });
      }
    });
    logic = new Logic(
      {
        topicPrefix: 'lanes',
        historyLimitMax: 100,
        maxMsgDataBytes: 1024,
        loginPolicy: 'many',
        lanes: LANES,
      },
      {
        bus,
        store,
        cache: new MemoryCache(),
        metrics: new MqimMetrics({ defaultMetrics: false }),
        logger: pino({ level: 'silent' }),
      },
    );
    await logic.start();
  });

  afterEach(async () => {
    await logic.stop();
    await bus.close();
  });

  /** Sender `from` (connection c<from>) to `to`, as a gate encodes it into a batch. */
  const request = (from: number, to: number, clientMsgId: string) => {
    const orderKey = from < to ? `s:${from}:${to}` : `s:${to}:${from}`;
    return {
      orderKey,
      bytes: mqim.v1.UpstreamRequest.encode({
        gateId: 'g1',
        connId: `c${from}`,
        userId: from,
        cmd: CommandId.MSG_DATA,
        seq: 1,
        orderKey,
        receivedAtMs: Date.now(),
        body: CIM.Message.CIMMsgData.encode({
          fromUserId: from,
          toSessionId: to,
          clientMsgId,
          msgType: 1,
          sessionType: 1,
          msgData: Buffer.from(clientMsgId),
        }).finish(),
      }).finish(),
    };
  };

  /** Six conversations (1→2, 3→4, …), `rounds` messages each, published lane by lane in batches of `perBatch`. */
  async function publishRounds(rounds: number, perBatch: number): Promise<Map<string, string[]>> {
    const sent = new Map<string, string[]>();
    const lanes = new Map<number, { orderKey: string; bytes: Uint8Array }[]>();
    for (let r = 0; r < rounds; r++) {
      for (let from = 1; from <= 11; from += 2) {
        const id = `m${from}-${r}`;
        const req = request(from, from + 1, id);
        sent.set(req.orderKey, [...(sent.get(req.orderKey) ?? []), id]);
        const lane = laneOf(req.orderKey, LANES);
        lanes.set(lane, [...(lanes.get(lane) ?? []), req]);
      }
    }
    for (const [lane, reqs] of lanes) {
      for (let i = 0; i < reqs.length; i += perBatch) {
        await bus.publish({
          topic: names.upstream,
          messageGroup: laneGroup(lane),
          tag: UPSTREAM_BATCH_TAG,
          body: encodeUpstreamBatch(reqs.slice(i, i + perBatch).map((r) => r.bytes)),
        });
      }
    }
    return sent;
  }

  it('lanes - every conversation keeps its send order in the store, the acks and the intents, with a failure mid-batch', async () => {
    // One conversation fails in the middle of its second batch; one fails on its very first message.
    failOnce = new Set(['m1-4', 'm7-0']);
    const sent = await publishRounds(12, 7);
    const total = [...sent.values()].reduce((n, ids) => n + ids.length, 0);
    await waitFor(() => acks.length >= total && intents.length >= total, {
      timeoutMs: 10_000,
      message: 'not every send was acked and delivered',
    });
    expect(failOnce.size).toBe(0); // both failures happened
    for (const [key, ids] of sent) {
      const [a, b] = key.slice(2).split(':').map(Number);
      const history = (await store.messages.history(a!, 1, b!, { limit: 100 })).sort(
        (x, y) => x.serverMsgId - y.serverMsgId,
      );
      // Stored once each, ids 1..n in send order (gap-free, invariant 3).
      expect(history.map((m) => m.clientMsgId)).toEqual(ids);
      expect(history.map((m) => m.serverMsgId)).toEqual(ids.map((_, i) => i + 1));
      // Handed to the job in send order, once each.
      expect(intents.filter((i) => i.key === key).map((i) => i.clientMsgId)).toEqual(ids);
      // The sender's acks in send order, once each, with the stored ids.
      expect(acks.filter((x) => x.connId === `c${a}`).map((x) => [x.clientMsgId, x.serverMsgId])).toEqual(
        ids.map((id, i) => [id, i + 1]),
      );
    }
  });

  /** Holds (or fails) logic's intent publishes to `im-deliver` while `hold` is set. */
  function interceptIntents() {
    const publish = bus.publish.bind(bus);
    const control = { hold: undefined as Promise<void> | undefined, failNext: 0, failed: 0 };
    bus.publish = async (m) => {
      if (m.topic === names.deliver) {
        if (control.hold) await control.hold;
        if (control.failNext > 0) {
          control.failNext--;
          control.failed++;
          throw new Error('broker down');
        }
      }
      return publish(m);
    };
    return control;
  }

  async function expectEveryConversationInOrder(sent: Map<string, string[]>): Promise<void> {
    const total = [...sent.values()].reduce((n, ids) => n + ids.length, 0);
    await waitFor(() => acks.length >= total && intents.length >= total, {
      timeoutMs: 10_000,
      message: 'not every send was acked and delivered',
    });
    for (const [key, ids] of sent) {
      const [a, b] = key.slice(2).split(':').map(Number);
      const history = (await store.messages.history(a!, 1, b!, { limit: 100 })).sort(
        (x, y) => x.serverMsgId - y.serverMsgId,
      );
      expect(history.map((m) => m.clientMsgId)).toEqual(ids);
      expect(intents.filter((i) => i.key === key).map((i) => i.clientMsgId)).toEqual(ids);
      // A retried request is acked again (at least once): the sender sees its acks in order.
      const acked = acks.filter((x) => x.connId === `c${a}`).map((x) => x.clientMsgId);
      expect([...new Set(acked)]).toEqual(ids);
    }
  }

  it("pipelining - a conversation's next message is stored while the previous one's intent is still being published", async () => {
    const control = interceptIntents();
    let release!: () => void;
    control.hold = new Promise<void>((r) => (release = r));
    const sent = await publishRounds(3, 18); // one upstream batch per lane, 3 messages a conversation
    await waitFor(async () => (await store.messages.history(1, 1, 2, { limit: 10 })).length === 3, {
      timeoutMs: 5000,
      message: "the second and third message waited for the first one's publish",
    });
    expect(intents).toHaveLength(0);
    control.hold = undefined;
    release();
    await expectEveryConversationInOrder(sent);
  });

  it('pipelining - a failed intent publish comes back: each message stored once, delivered once and in order', async () => {
    const control = interceptIntents();
    control.failNext = 1;
    const sent = await publishRounds(4, 24);
    await expectEveryConversationInOrder(sent);
    expect(control.failed).toBe(1);
  });

  it('lanes - a bare UpstreamRequest from an older gate is still handled, ordered by its message group', async () => {
    const req = request(1, 2, 'old-1');
    await bus.publish({ topic: names.upstream, messageGroup: 's:1:2', tag: 'MSG_DATA', body: req.bytes });
    await waitFor(() => acks.length === 1 && intents.length === 1, { timeoutMs: 3000 });
    expect(acks[0]).toMatchObject({ clientMsgId: 'old-1', serverMsgId: 1 });
  });
});
