import { randomBytes } from 'node:crypto';
import { createLogger } from '@mqim/config';
import { describeInfra, probeRocketMq } from '@mqim/testing';
import { RocketMqBus, type BrokerCall } from '../rocketmq.bus';
import type { ReceivedMessage } from '../message-bus.port';

// Streams nobody waits on (receipts, due push checks) trade latency for fewer broker
// calls: `receiveIntervalMs` and `ackDelayMs`. What a user of the bus would notice: every message
// still arrives once and is acked (nothing comes back), with a fraction of the calls.
const rmq = probeRocketMq();
const logger = createLogger('bus', process.env.MQIM_LOG_LEVEL ?? 'silent');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describeInfra('RocketMqBus - background streams', rmq, () => {
  const run = randomBytes(3).toString('hex');
  let seq = 0;
  const unique = (what: string) => `bg_${what}_${run}_${seq++}`;
  const open: RocketMqBus[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((b) => b.close().catch(() => undefined)));
  });

  function newBus(calls: { op: BrokerCall; topic: string; n: number }[]): RocketMqBus {
    const bus = new RocketMqBus({
      endpoints: rmq.proxyEndpoints,
      namesrv: rmq.nameServer,
      awaitDurationMs: 1000,
      logger,
      onBrokerCall: (op, topic, n) => calls.push({ op, topic, n }),
    });
    open.push(bus);
    return bus;
  }

  /** Publishes `n` messages one every `gapMs`; resolves with their ids. */
  async function trickle(bus: RocketMqBus, topic: string, n: number, gapMs: number): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      ids.push(await bus.publish({ topic, body: Buffer.from(`m${i}`) }));
      await sleep(gapMs);
    }
    return ids;
  }

  async function untilAll(seen: ReceivedMessage[], ids: string[], ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline && !ids.every((id) => seen.some((m) => m.id === id))) await sleep(25);
  }

  it('receive interval and ack delay - a trickle arrives whole and once, in a few receives and acks', async () => {
    const calls: { op: BrokerCall; topic: string; n: number }[] = [];
    const bus = newBus(calls);
    const topic = unique('t');
    const group = unique('g');
    await bus.ensureTopics([{ name: topic, kind: 'normal', queues: 4 }]);
    await bus.ensureGroups([{ name: group, orderly: false }]);
    const seen: ReceivedMessage[] = [];
    await bus.subscribe(
      { topic, group, concurrency: 64, invisibleMs: 3000, receiveIntervalMs: 400, ackDelayMs: 400 },
      async (m) => void seen.push(m),
    );
    // 40 messages over ~1.2 s: without pacing that is ~40 receives and ~40 acks.
    const ids = await trickle(bus, topic, 40, 30);
    await untilAll(seen, ids, 5000);
    expect(seen.map((m) => m.id).sort()).toEqual([...ids].sort());
    // Past the invisibility: an unacked message would be handed out a second time by now.
    await sleep(3000 + 2500);
    expect(seen).toHaveLength(40);
    const count = (op: BrokerCall) =>
      calls.filter((c) => c.op === op && c.topic === topic && (op !== 'receive' || c.n > 0)).length;
    expect(count('receive')).toBeLessThanOrEqual(10);
    expect(count('ack')).toBeLessThanOrEqual(10);
  }, 30_000);

  it('ack delay - close() sends the delayed acks: a later subscriber of the group gets nothing again', async () => {
    const bus = newBus([]);
    const topic = unique('t');
    const group = unique('g');
    await bus.ensureTopics([{ name: topic, kind: 'normal', queues: 4 }]);
    await bus.ensureGroups([{ name: group, orderly: false }]);
    const first: ReceivedMessage[] = [];
    const sub = await bus.subscribe(
      { topic, group, concurrency: 64, invisibleMs: 3000, ackDelayMs: 1000 },
      async (m) => void first.push(m),
    );
    const ids = await Promise.all(
      Array.from({ length: 10 }, (_, i) => bus.publish({ topic, body: Buffer.from(`c${i}`) })),
    );
    await untilAll(first, ids, 5000);
    await sub.close();
    const second: ReceivedMessage[] = [];
    const other = newBus([]);
    await other.subscribe({ topic, group, concurrency: 64 }, async (m) => void second.push(m));
    await sleep(3000 + 3000);
    expect(first).toHaveLength(10);
    expect(second).toEqual([]);
  }, 30_000);

  it('transit - each received message reports how long it was on its way', async () => {
    const transits: number[] = [];
    const bus = new RocketMqBus({
      endpoints: rmq.proxyEndpoints,
      namesrv: rmq.nameServer,
      awaitDurationMs: 1000,
      logger,
      onTransit: (topic, ms) => void (topic === name && transits.push(ms)),
    });
    open.push(bus);
    const name = unique('t');
    const group = unique('g');
    await bus.ensureTopics([{ name, kind: 'normal', queues: 1 }]);
    await bus.ensureGroups([{ name: group, orderly: false }]);
    const seen: ReceivedMessage[] = [];
    // Subscribed late on purpose: the messages wait on the broker for ~1 s first.
    const ids = await trickle(bus, name, 3, 0);
    await sleep(1000);
    await bus.subscribe({ topic: name, group }, async (m) => void seen.push(m));
    await untilAll(seen, ids, 5000);
    expect(transits).toHaveLength(3);
    for (const ms of transits) {
      expect(ms).toBeGreaterThanOrEqual(900);
      expect(ms).toBeLessThan(10_000);
    }
  }, 30_000);

  it('ack delay - refused when it would reach the invisibility', async () => {
    const bus = newBus([]);
    const topic = unique('t');
    await bus.ensureTopics([{ name: topic, kind: 'normal', queues: 1 }]);
    await expect(
      bus.subscribe(
        { topic, group: unique('g'), invisibleMs: 2000, ackDelayMs: 1500 },
        async () => undefined,
      ),
    ).rejects.toThrow(RangeError);
  });
});
