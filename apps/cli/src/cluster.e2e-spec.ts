import pino from 'pino';
import { RocketMqAdmin } from '@mqim/bus';
import { MqNames, mqim } from '@mqim/protocol';
import { createBus } from '@mqim/composition';
import {
  createImClient,
  ImClientError,
  type ImClient,
  type ImMessage,
  type ReadNotify,
  type SendResult,
} from '@mqim/sdk';
import { clusterConfig } from './startup.error';
import {
  describeInfra,
  probeMysql,
  probeRedis,
  probeRocketMq,
  startCluster,
  waitFor,
  type MqimCluster,
} from '@mqim/testing';

const rmq = probeRocketMq();
const SINGLE = 1;

/** Collects what the server pushes to a client. */
function inbox(client: ImClient): { messages: ImMessage[]; reads: ReadNotify[] } {
  const box = { messages: [] as ImMessage[], reads: [] as ReadNotify[] };
  client.on('message', (m) => box.messages.push(m));
  client.on('readNotify', (r) => box.reads.push(r));
  return box;
}

/** Every message of a conversation, paging backwards from the newest, in ascending order. */
async function fullHistory(client: ImClient, sessionId: number): Promise<ImMessage[]> {
  const all: ImMessage[] = [];
  let endMsgId = 0;
  for (;;) {
    const page = await client.history({ sessionType: SINGLE, sessionId, endMsgId, limit: 100 });
    if (page.length === 0) return all;
    all.unshift(...page);
    endMsgId = page[0]!.serverMsgId;
  }
}

/**
 * A send as a careful app does it: on a timeout or a lost connection, the same clientMsgId again
 * (idempotent on the server), until it is acked.
 */
async function sendUntilAcked(
  client: () => ImClient,
  to: number,
  text: string,
  clientMsgId: string,
  attempts = 10,
): Promise<SendResult> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await client().send({ to, text, clientMsgId });
    } catch (err) {
      const retriable =
        err instanceof ImClientError &&
        ['IM_ERR_TIMEOUT', 'IM_ERR_CONNECTION_LOST', 'IM_ERR_NOT_CONNECTED'].includes(err.code);
      if (!retriable || attempt >= attempts) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const sortNum = (xs: Iterable<number>) => [...xs].sort((a, b) => a - b);

describeInfra(
  'cluster - gates, logic, job and api as processes on RocketMQ, MySQL and Redis',
  [rmq, probeMysql(), probeRedis()],
  () => {
    let cluster: MqimCluster;
    const clients: ImClient[] = [];
    const users = new Map<string, number>();

    const client = async (url: string, userName: string, requestTimeoutMs = 10_000): Promise<ImClient> => {
      const c = createImClient({ url, requestTimeoutMs });
      clients.push(c);
      await c.loginWithPassword(userName, 'secret');
      return c;
    };

    const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
      const res = await fetch(`${cluster.api!.url}/api/v1${path}`, {
        method,
        headers: {
          authorization: `Bearer ${cluster.api!.key}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
      return (await res.json()) as T;
    };

    const createUsers = async (...names: string[]): Promise<number[]> => {
      const ids: number[] = [];
      for (const userName of names) {
        const { userId } = await api<{ userId: number }>('POST', '/users', { userName, password: 'secret' });
        users.set(userName, userId);
        ids.push(userId);
      }
      return ids;
    };

    beforeAll(async () => {
      cluster = await startCluster({
        name: 'cluster_e2e',
        gates: 2,
        logic: 2,
        jobs: 1,
        env: { MQIM_RECEIPT_FLUSH: '100ms' },
      });
    }, 240_000);

    afterAll(async () => {
      await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
      await cluster?.stop();
    }, 60_000);

    it('chat - users on gate 1 (TCP) and gate 2 (WS) exchange messages, receipts and read notifies', async () => {
      const [gate1, gate2] = cluster.gates;
      const [aliceId, bobId] = await createUsers('alice', 'bob');
      const alice = await client(gate1!.tcp, 'alice');
      const bob = await client(gate2!.ws, 'bob');
      const [aliceBox, bobBox] = [inbox(alice), inbox(bob)];

      const sent = await alice.send({ to: bobId!, text: 'hi bob, from gate 1' });
      expect(sent.serverMsgId).toBe(1);
      await waitFor(() => bobBox.messages.length === 1, {
        timeoutMs: 10_000,
        message: 'bob (gate 2) got the message',
      });
      expect(bobBox.messages[0]).toMatchObject({
        fromUserId: aliceId,
        serverMsgId: 1,
        text: 'hi bob, from gate 1',
      });

      const reply = await bob.send({ to: aliceId!, text: 'hi alice, from gate 2' });
      expect(reply.serverMsgId).toBe(2);
      await waitFor(() => aliceBox.messages.length === 1, {
        timeoutMs: 10_000,
        message: 'alice (gate 1) got the reply',
      });
      expect(aliceBox.messages[0]).toMatchObject({
        fromUserId: bobId,
        serverMsgId: 2,
        text: 'hi alice, from gate 2',
      });

      await bob.markRead(SINGLE, aliceId!, reply.serverMsgId);
      await waitFor(() => aliceBox.reads.length === 1, {
        timeoutMs: 10_000,
        message: 'alice got the read notify',
      });
      expect(aliceBox.reads[0]).toMatchObject({ readerId: bobId, msgId: 2 });

      // Both SDKs answered the pushes with delivery receipts; the job stores them.
      const receipt = (user: number, peer: number) =>
        api<{ deliveredMsgId: number; readMsgId: number }>(
          'GET',
          `/users/${user}/receipts/${SINGLE}/${peer}`,
        );
      await waitFor(async () => (await receipt(bobId!, aliceId!)).deliveredMsgId >= 1, {
        timeoutMs: 10_000,
        message: "bob's receipt reached MySQL",
      });
      await waitFor(async () => (await receipt(aliceId!, bobId!)).deliveredMsgId >= 2, {
        timeoutMs: 10_000,
        message: "alice's receipt reached MySQL",
      });
      expect((await receipt(bobId!, aliceId!)).readMsgId).toBe(2);
    });

    it('tap - an analytics consumer group of its own sees every stored message, batched by tag', async () => {
      const bus = await createBus(clusterConfig({ ...cluster.env }), pino({ level: 'silent' }));
      const group = `${cluster.name}-tap-e2e`;
      const tapped: { tag?: string; records: mqim.v1.IPersistedMessage[] }[] = [];
      try {
        await bus.ensureGroups([{ name: group, orderly: false }]);
        await bus.subscribe({ topic: new MqNames(cluster.name).persisted, group }, async (m) => {
          tapped.push({ tag: m.tag, records: mqim.v1.PersistedMessageBatch.decode(m.body).messages });
        });
        const [, tbId] = await createUsers('tap-a', 'tap-b');
        const ta = await client(cluster.gates[0]!.tcp, 'tap-a');
        const ids = new Set<string>();
        for (let i = 0; i < 5; i++) ids.add((await ta.send({ to: tbId!, text: `tap ${i}` })).clientMsgId);
        const seen = () => tapped.flatMap((t) => t.records).filter((r) => ids.has(r.clientMsgId ?? ''));
        await waitFor(() => new Set(seen().map((r) => r.clientMsgId)).size === 5, {
          timeoutMs: 15_000,
          message: 'the tap group got all 5 records',
        });
        expect(sortNum(new Set(seen().map((r) => Number(r.serverMsgId))))).toEqual([1, 2, 3, 4, 5]);
        expect(seen().every((r) => r.sessionType === SINGLE && Number(r.toSessionId) === tbId)).toBe(true);
        expect(new Set(tapped.map((t) => t.tag))).toEqual(new Set(['single']));
      } finally {
        await bus.close();
      }
    });

    it('offline - a user who was offline gets everything through recent sessions and history', async () => {
      const [gate1, gate2] = cluster.gates;
      const [, carolId] = await createUsers('dan', 'carol');
      const dan = await client(gate1!.tcp, 'dan');
      for (let i = 1; i <= 5; i++) await dan.send({ to: carolId!, text: `m${i}` });

      const carol = await client(gate2!.ws, 'carol');
      const recent = await carol.recentSessions();
      expect(recent.unreadTotal).toBe(5);
      expect(recent.sessions).toEqual([
        expect.objectContaining({ sessionId: users.get('dan'), sessionType: SINGLE, unreadCount: 5 }),
      ]);
      const history = await fullHistory(carol, users.get('dan')!);
      expect(history.map((m) => m.text)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5']);
      expect(history.map((m) => m.serverMsgId)).toEqual([1, 2, 3, 4, 5]);
    });

    it('scale out - a third gate started now provisions its own topic and serves users at once', async () => {
      const names = new MqNames(cluster.name);
      const admin = new RocketMqAdmin({ namesrv: rmq.nameServer });
      try {
        const [broker] = await admin.masterBrokers();
        expect(await admin.topicConfig(broker!, names.gate('gate-3'))).toBeUndefined();
        const gate3 = await cluster.startGate('gate-3');
        expect(await admin.topicConfig(broker!, names.gate('gate-3'))).toMatchObject({
          attributes: expect.objectContaining({ 'message.type': 'FIFO' }),
        });

        const [eveId, gusId] = await createUsers('eve', 'gus');
        const eve = await client(gate3.tcp, 'eve');
        const gus = await client(cluster.gates[0]!.ws, 'gus');
        const [eveBox, gusBox] = [inbox(eve), inbox(gus)];
        await eve.send({ to: gusId!, text: 'from the new gate' });
        await gus.send({ to: eveId!, text: 'to the new gate' });
        await waitFor(() => eveBox.messages.length === 1 && gusBox.messages.length === 1, {
          timeoutMs: 10_000,
          message: 'both directions delivered through gate 3',
        });
        expect(gusBox.messages[0]!.text).toBe('from the new gate');
        expect(eveBox.messages[0]!.text).toBe('to the new gate');
      } finally {
        admin.close();
      }
    });

    it('gate crash - kill -9 of gate 2 under a message stream: after reconnecting and syncing, every acked message exactly once', async () => {
      const [gate1, gate2] = cluster.gates;
      const [, ritaId] = await createUsers('sam', 'rita');
      const samId = users.get('sam')!;
      const sam = await client(gate1!.tcp, 'sam', 20_000);
      let rita = await client(gate2!.ws, 'rita');
      const pushed: number[] = [];
      rita.on('message', (m) => pushed.push(m.serverMsgId));
      const ritaLost = new Promise<void>((resolve) => rita.once('disconnected', () => resolve()));

      // sam sends every 50 ms (20/s) until MAX, each send retried (same clientMsgId) until acked.
      // Not faster: one conversation is handled strictly in order, ~30 msg/s here
      // (docs/cluster.md), so 50/s would test an ever-growing backlog instead of the crash.
      const MAX = 400;
      const acked: number[] = [];
      const sends: Promise<void>[] = [];
      let n = 0;
      const timer = setInterval(() => {
        if (n >= MAX) return clearInterval(timer);
        const i = ++n;
        sends.push(
          sendUntilAcked(() => sam, ritaId!, `s${i}`, `stream-${i}`, 3).then(
            (r) => void acked.push(r.serverMsgId),
          ),
        );
      }, 50);
      try {
        await waitFor(() => pushed.length >= 20, {
          timeoutMs: 15_000,
          message: 'rita receives the stream on gate 2',
        });
        await gate2!.proc.kill();
        await withTimeout(ritaLost, 10_000, "rita's client notices that gate 2 died");
        // What an app does when its gate dies: connect to another one, log in, sync.
        rita = await client(gate1!.ws, 'rita');
        rita.on('message', (m) => pushed.push(m.serverMsgId));
        const atReconnect = n;
        await waitFor(() => n >= atReconnect + 40, { timeoutMs: 15_000, message: 'the stream goes on' });
      } finally {
        clearInterval(timer);
      }
      await Promise.all(sends);
      expect(acked).toHaveLength(n);
      // Messages sent after the reconnect are pushed to the new connection, not only found by sync.
      await waitFor(() => pushed.includes(Math.max(...acked)), {
        timeoutMs: 10_000,
        message: 'the last message is pushed to rita on gate 1',
      });

      const history = await fullHistory(rita, samId);
      const historyIds = history.map((m) => m.serverMsgId);
      expect(new Set(historyIds).size).toBe(historyIds.length); // no duplicates
      expect(historyIds).toEqual(sortNum(acked)); // exactly the acked messages, ascending
      expect(sortNum(new Set([...pushed, ...historyIds]))).toEqual(sortNum(acked));
      const texts = new Map(history.map((m) => [m.clientMsgId, m.text]));
      for (let i = 1; i <= n; i++) expect(texts.get(`stream-${i}`)).toBe(`s${i}`);
    }, 90_000);

    it('logic crash - kill -9 of one of two logic consumers under load: nothing acked is lost, nothing stored twice, order kept', async () => {
      const gate = cluster.gates[0]!;
      const pairs = ['a', 'b', 'c', 'd'].map((x) => [`sender_${x}`, `receiver_${x}`] as const);
      for (const [s, r] of pairs) await createUsers(s, r);
      // A short request timeout: sends stuck on the dead consumer are retried (same clientMsgId).
      const senders = await Promise.all(pairs.map(([s], i) => client(i % 2 ? gate.ws : gate.tcp, s, 5000)));
      const PER_SENDER = 60;
      let total = 0;
      const results = pairs.map(() => [] as SendResult[]);
      const load = pairs.map(async ([, r], i) => {
        for (let k = 1; k <= PER_SENDER; k++) {
          // Sequential per conversation, as a user types: the stored order must be this order.
          results[i]!.push(
            await sendUntilAcked(() => senders[i]!, users.get(r)!, `${r}#${k}`, `${r}-${k}`, 15),
          );
          total++;
        }
      });
      const victim = cluster.logic[0]!;
      await waitFor(() => total >= 40, {
        timeoutMs: 30_000,
        message: 'load flows through both logic consumers',
      });
      await victim.kill();
      await Promise.all(load);

      for (const [i, [s, r]] of pairs.entries()) {
        const history = await fullHistory(senders[i]!, users.get(r)!);
        const ids = history.map((m) => m.serverMsgId);
        // Nothing stored twice, order intact: one row per send, in send order, ids strictly increasing.
        expect({ sender: s, texts: history.map((m) => m.text) }).toEqual({
          sender: s,
          texts: Array.from({ length: PER_SENDER }, (_, k) => `${r}#${k + 1}`),
        });
        expect(ids).toEqual(sortNum(new Set(ids)));
        // Every ack named the row that is stored for it.
        expect(results[i]!.map((x) => x.serverMsgId)).toEqual(ids);
      }
    }, 150_000);
  },
);
