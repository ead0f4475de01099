import { randomBytes } from 'node:crypto';
import {
  InvalidMessageError,
  TopicNotFoundError,
  type MessageBus,
  type ReceivedMessage,
  type TopicKind,
} from '../message-bus.port';

/**
 * Creates a fresh bus. Called several times per test when a test needs two processes' worth of
 * bus (one that dies, one that takes over); every bus it returns is closed after the test. The
 * bus must redeliver a failed message within `BusContractTiming.redeliveryMs` (configure its
 * retry delay accordingly).
 */
export type BusFactory = () => MessageBus | Promise<MessageBus>;

/** How fast the implementation under test is; the suite's waits are derived from these. */
export interface BusContractTiming {
  /** Longest wait for a message that should arrive. @default 3000 */
  deliveryTimeoutMs: number;
  /** Longest time a failed message takes to come back (the factory's retry delay + slack). @default 1000 */
  redeliveryMs: number;
  /** `invisibleMs` used where a handler hangs or its subscriber dies; must be allowed by the bus. @default 250 */
  invisibleMs: number;
  /** Extra time, after `invisibleMs`, until an expired message is handed out again. @default 500 */
  reviveMs: number;
  /** Delay of the delay test's message. @default 300 */
  delayMs: number;
  /** How late a delayed message may arrive. @default 250 */
  delayLateMs: number;
  /** How early (clock granularity between broker and test). @default 5 */
  delayEarlyMs: number;
}

const DEFAULT_TIMING: BusContractTiming = {
  deliveryTimeoutMs: 3000,
  redeliveryMs: 1000,
  invisibleMs: 250,
  reviveMs: 500,
  delayMs: 300,
  delayLateMs: 250,
  delayEarlyMs: 5,
};

/**
 * The behaviour every `MessageBus` implementation must show (the port's contract, see
 * message-bus.port.ts). Each test provisions its own uniquely named topics and groups, so the
 * suite can run against a shared broker, repeatedly.
 *
 * ```ts
 * runBusContract('MemoryBus', () => new MemoryBus({ retryDelayMs: 20 }));
 * ```
 */
export function runBusContract(
  name: string,
  factory: BusFactory,
  timing: Partial<BusContractTiming> = {},
): void {
  const t: BusContractTiming = { ...DEFAULT_TIMING, ...timing };
  // Every test fits in this, whatever jest's default timeout is.
  const budget =
    2 * t.deliveryTimeoutMs +
    3 * t.redeliveryMs +
    5 * t.invisibleMs +
    2 * t.reviveMs +
    t.delayMs +
    t.delayLateMs +
    10_000;
  const it = (title: string, fn: () => Promise<void>): void => test(title, fn, budget);
  const runId = randomBytes(3).toString('hex');
  let seq = 0;
  const unique = (what: string): string => `bc_${what}_${runId}_${(seq++).toString(36)}`;

  describe(`${name} - MessageBus contract`, () => {
    const open: MessageBus[] = [];
    const newBus = async (): Promise<MessageBus> => {
      const bus = await factory();
      open.push(bus);
      return bus;
    };
    afterEach(async () => {
      await Promise.all(open.splice(0).map((bus) => bus.close().catch(() => undefined)));
    });

    async function provision(bus: MessageBus, kind: TopicKind, groups: number, orderly = kind === 'fifo') {
      const topic = unique(kind);
      await bus.ensureTopics([{ name: topic, kind, queues: 4 }]);
      const names = Array.from({ length: groups }, () => unique('g'));
      await bus.ensureGroups(names.map((n) => ({ name: n, orderly })));
      return { topic, groups: names };
    }

    it('publish - roundtrip keeps body bytes, tag and keys', async () => {
      const bus = await newBus();
      const { topic, groups } = await provision(bus, 'normal', 1);
      const inbox = new Inbox();
      await bus.subscribe({ topic, group: groups[0]! }, inbox.handler);
      const body = new Uint8Array(4096);
      for (let i = 0; i < body.length; i++) body[i] = (i * 31 + 7) & 0xff;
      const before = Date.now();
      const id = await bus.publish({ topic, body, tag: 'TagA', keys: ['k-1', 'k-2'] });
      const [m] = await inbox.waitFor(1, t.deliveryTimeoutMs);
      expect(typeof id).toBe('string');
      expect(m!.id).toBe(id);
      expect(m!.topic).toBe(topic);
      expect(Buffer.from(m!.body).equals(Buffer.from(body))).toBe(true);
      expect(m!.tag).toBe('TagA');
      expect([...m!.keys].sort()).toEqual(['k-1', 'k-2']);
      expect(m!.messageGroup).toBeUndefined();
      expect(m!.deliveryAttempt).toBe(1);
      expect(m!.bornAt).toBeGreaterThanOrEqual(before - 1000);
      expect(m!.bornAt).toBeLessThanOrEqual(Date.now() + 1000);
    });

    it('fan-out - every group gets every message', async () => {
      const bus = await newBus();
      const { topic, groups } = await provision(bus, 'normal', 2);
      const inboxes = [new Inbox(), new Inbox()];
      await bus.subscribe({ topic, group: groups[0]! }, inboxes[0]!.handler);
      await bus.subscribe({ topic, group: groups[1]! }, inboxes[1]!.handler);
      const ids = await Promise.all(
        Array.from({ length: 10 }, (_, i) => bus.publish({ topic, body: text(`m${i}`) })),
      );
      for (const inbox of inboxes) {
        await inbox.waitForIds(ids, t.deliveryTimeoutMs);
        expect(new Set(inbox.messages.map((m) => m.id))).toEqual(new Set(ids));
      }
    });

    it('groups - the subscribers of one group share its messages', async () => {
      const bus = await newBus();
      const { topic, groups } = await provision(bus, 'normal', 1);
      const group = groups[0]!;
      const a = new Inbox(20);
      const b = new Inbox(20);
      await bus.subscribe({ topic, group, concurrency: 1 }, a.handler);
      await bus.subscribe({ topic, group, concurrency: 1 }, b.handler);
      const ids = await Promise.all(
        Array.from({ length: 30 }, (_, i) => bus.publish({ topic, body: text(`m${i}`) })),
      );
      await waitUntil(
        () => new Set([...a.messages, ...b.messages].map((m) => m.id)).size === ids.length,
        t.deliveryTimeoutMs + 30 * 20,
        () => `a got ${a.messages.length}, b got ${b.messages.length} of ${ids.length}`,
      );
      expect(a.messages.length).toBeGreaterThan(0);
      expect(b.messages.length).toBeGreaterThan(0);
    });

    it('fifo - one message group at a time, in publish order, a failure retried before the rest', async () => {
      const bus = await newBus();
      const { topic, groups } = await provision(bus, 'fifo', 1);
      const lanes = ['ga', 'gb', 'gc', 'gd'];
      const perLane = 8;
      const seen = new Map<string, string[]>(lanes.map((l) => [l, []]));
      const acked = new Map<string, number>(lanes.map((l) => [l, 0]));
      const busy = new Set<string>();
      const overlaps: string[] = [];
      await bus.subscribe({ topic, group: groups[0]!, concurrency: 8 }, async (m) => {
        const lane = m.messageGroup!;
        const i = Number(Buffer.from(m.body).toString());
        if (busy.has(lane)) overlaps.push(`${lane}:${i}`);
        busy.add(lane);
        try {
          seen.get(lane)!.push(`${i}${m.deliveryAttempt > 1 ? `#${m.deliveryAttempt}` : ''}`);
          await sleep(Math.random() * 8);
          if (lane === 'gb' && i === 3 && m.deliveryAttempt === 1) throw new Error('injected failure');
          acked.set(lane, acked.get(lane)! + 1);
        } finally {
          busy.delete(lane);
        }
      });
      await Promise.all(
        lanes.map(async (lane) => {
          for (let i = 0; i < perLane; i++)
            await bus.publish({ topic, body: text(String(i)), messageGroup: lane });
        }),
      );
      await waitUntil(
        () => lanes.every((l) => acked.get(l) === perLane),
        t.deliveryTimeoutMs + t.redeliveryMs + 2000,
        () => JSON.stringify(Object.fromEntries(seen)),
      );
      const inOrder = ['0', '1', '2', '3', '4', '5', '6', '7'];
      expect(seen.get('ga')).toEqual(inOrder);
      expect(seen.get('gb')).toEqual(['0', '1', '2', '3', '3#2', '4', '5', '6', '7']);
      expect(seen.get('gc')).toEqual(inOrder);
      expect(seen.get('gd')).toEqual(inOrder);
      expect(overlaps).toEqual([]);
    });

    it('batch - a call gets consecutive messages of one message group, in order, each group at most once at a time', async () => {
      const bus = await newBus();
      const { topic, groups } = await provision(bus, 'fifo', 1);
      const lanes = ['ba', 'bb', 'bc'];
      const perLane = 12;
      const seen = new Map<string, string[]>(lanes.map((l) => [l, []]));
      const sizes: number[] = [];
      const busy = new Set<string>();
      const problems: string[] = [];
      let calls = 0;
      await bus.subscribeBatch({ topic, group: groups[0]!, concurrency: 32, maxBatch: 8 }, async (ms) => {
        const lane = ms[0]!.messageGroup!;
        if (ms.some((m) => m.messageGroup !== lane)) problems.push(`mixed groups in one call: ${lane}`);
        if (busy.has(lane)) problems.push(`${lane} handed out twice at once`);
        busy.add(lane);
        sizes.push(ms.length);
        try {
          // The first calls are slow, so what is published meanwhile waits and travels together.
          if (calls++ < lanes.length) await sleep(300);
          const failed = lane === 'bb' && ms.some((m) => str(m) === '5' && m.deliveryAttempt === 1);
          for (const m of ms) seen.get(lane)!.push(`${str(m)}${m.deliveryAttempt > 1 ? '#' : ''}`);
          if (failed) throw new Error('injected failure');
        } finally {
          busy.delete(lane);
        }
      });
      for (let i = 0; i < perLane; i++)
        await Promise.all(
          lanes.map((lane) => bus.publish({ topic, body: text(String(i)), messageGroup: lane })),
        );
      const done = (lane: string) => new Set(seen.get(lane)!.map((v) => v.replace('#', ''))).size === perLane;
      await waitUntil(
        () => lanes.every(done),
        t.deliveryTimeoutMs + t.redeliveryMs + 3000,
        () => JSON.stringify(Object.fromEntries(seen)),
      );
      await sleep(200);
      expect(problems).toEqual([]);
      expect(Math.max(...sizes)).toBeGreaterThan(1);
      expect(Math.max(...sizes)).toBeLessThanOrEqual(8);
      const inOrder = Array.from({ length: perLane }, (_, i) => String(i));
      expect(seen.get('ba')).toEqual(inOrder);
      expect(seen.get('bc')).toEqual(inOrder);
      // The failed call's messages came back, in order, before anything behind them.
      const bb = seen.get('bb')!;
      const firstRetry = bb.findIndex((v) => v.endsWith('#'));
      expect(firstRetry).toBeGreaterThan(0);
      const plain = bb.map((v) => v.replace('#', ''));
      expect(plain.slice(0, firstRetry)).toEqual(inOrder.slice(0, firstRetry));
      expect(plain.slice(firstRetry)).toEqual(inOrder.slice(Number(plain[firstRetry])));
    });

    it('delay - not handed out before deliverAt, and soon after it', async () => {
      const bus = await newBus();
      const { topic, groups } = await provision(bus, 'delay', 1);
      const arrivals: number[] = [];
      await bus.subscribe({ topic, group: groups[0]! }, async () => {
        arrivals.push(Date.now());
      });
      const deliverAt = Date.now() + t.delayMs;
      await bus.publish({ topic, body: text('later'), deliverAt });
      await waitUntil(() => arrivals.length > 0, t.delayMs + t.delayLateMs + t.deliveryTimeoutMs);
      expect(arrivals[0]!).toBeGreaterThanOrEqual(deliverAt - t.delayEarlyMs);
      expect(arrivals[0]!).toBeLessThanOrEqual(deliverAt + t.delayLateMs);
    });

    it('redelivery - a handler that throws gets the message again with deliveryAttempt + 1', async () => {
      const bus = await newBus();
      const { topic, groups } = await provision(bus, 'normal', 1);
      const attempts: ReceivedMessage[] = [];
      await bus.subscribe({ topic, group: groups[0]! }, async (m) => {
        attempts.push(m);
        if (m.deliveryAttempt === 1) throw new Error('injected failure');
      });
      const id = await bus.publish({ topic, body: text('retry me'), tag: 'T' });
      await waitUntil(() => attempts.length >= 2, t.deliveryTimeoutMs + t.redeliveryMs);
      expect(attempts.map((m) => [m.id, m.deliveryAttempt])).toEqual([
        [id, 1],
        [id, 2],
      ]);
      expect(Buffer.from(attempts[1]!.body).toString()).toBe('retry me');
      expect(attempts[1]!.tag).toBe('T');
    });

    it('redelivery - after maxDeliveryAttempts the message is dead-lettered, not handed out again', async () => {
      const bus = await newBus();
      const { topic, groups } = await provision(bus, 'normal', 1);
      const attempts: number[] = [];
      await bus.subscribe({ topic, group: groups[0]!, maxDeliveryAttempts: 2 }, async (m) => {
        attempts.push(m.deliveryAttempt);
        throw new Error('always fails');
      });
      await bus.publish({ topic, body: text('poison') });
      await waitUntil(() => attempts.length >= 2, t.deliveryTimeoutMs + t.redeliveryMs);
      await sleep(t.redeliveryMs * 2);
      expect(attempts).toEqual([1, 2]);
    });

    it('redelivery - a subscriber that dies without acking: its group gets the message again', async () => {
      const dying = await newBus();
      const { topic, groups } = await provision(dying, 'normal', 1);
      const group = groups[0]!;
      let handedOut: ReceivedMessage | undefined;
      await dying.subscribe({ topic, group, invisibleMs: t.invisibleMs }, (m) => {
        handedOut = m;
        return new Promise<void>(() => undefined); // never acks
      });
      const id = await dying.publish({ topic, body: text('orphan') });
      await waitUntil(() => handedOut !== undefined, t.deliveryTimeoutMs);
      const closing = Date.now();
      await dying.close();
      // close() waits for the hung handler only until its invisibility ends.
      expect(Date.now() - closing).toBeLessThan(t.invisibleMs + 2000);

      const survivor = await newBus();
      const inbox = new Inbox();
      await survivor.subscribe({ topic, group }, inbox.handler);
      const [m] = await inbox.waitFor(1, t.invisibleMs + t.reviveMs + t.deliveryTimeoutMs);
      expect(m!.id).toBe(id);
      expect(m!.deliveryAttempt).toBeGreaterThanOrEqual(2);
    });

    it('close - waits for in-flight handlers, which still ack', async () => {
      const bus = await newBus();
      const { topic, groups } = await provision(bus, 'normal', 1);
      const group = groups[0]!;
      let started = false;
      let finished = false;
      await bus.subscribe({ topic, group, invisibleMs: t.invisibleMs * 2 }, async () => {
        started = true;
        await sleep(t.invisibleMs / 2);
        finished = true;
      });
      await bus.publish({ topic, body: text('slow') });
      await waitUntil(() => started, t.deliveryTimeoutMs);
      await bus.close();
      expect(finished).toBe(true);

      // Acked: another subscriber of the group does not see it again.
      const next = await newBus();
      const inbox = new Inbox();
      await next.subscribe({ topic, group }, inbox.handler);
      await sleep(t.invisibleMs * 2 + t.reviveMs);
      expect(inbox.messages).toEqual([]);
    });

    it('ack - many messages finished at once are each acked: none comes back', async () => {
      const bus = await newBus();
      const { topic, groups } = await provision(bus, 'normal', 1);
      const inbox = new Inbox(5);
      await bus.subscribe(
        { topic, group: groups[0]!, concurrency: 16, invisibleMs: t.invisibleMs },
        inbox.handler,
      );
      const ids = await Promise.all(
        Array.from({ length: 40 }, (_, i) => bus.publish({ topic, body: text(`a${i}`) })),
      );
      await inbox.waitForIds(ids, t.deliveryTimeoutMs);
      await sleep(t.invisibleMs * 2 + t.reviveMs);
      expect(inbox.messages.map((m) => m.id).sort()).toEqual([...ids].sort());
    });

    it('topics - unknown topics reject with TopicNotFoundError; ensureTopics is idempotent', async () => {
      const bus = await newBus();
      const missing = unique('missing');
      await expect(bus.publish({ topic: missing, body: text('x') })).rejects.toBeInstanceOf(
        TopicNotFoundError,
      );
      await expect(
        bus.subscribe({ topic: missing, group: unique('g') }, async () => undefined),
      ).rejects.toBeInstanceOf(TopicNotFoundError);
      const topic = unique('normal');
      await bus.ensureTopics([{ name: topic, kind: 'normal' }]);
      await bus.ensureTopics([{ name: topic, kind: 'normal' }]);
      await expect(bus.publish({ topic, body: text('x') })).resolves.toEqual(expect.any(String));
    });

    it('publish - a message that does not fit its topic is rejected with InvalidMessageError', async () => {
      const bus = await newBus();
      const fifo = unique('fifo');
      const normal = unique('normal');
      await bus.ensureTopics([
        { name: fifo, kind: 'fifo' },
        { name: normal, kind: 'normal' },
      ]);
      await expect(bus.publish({ topic: fifo, body: text('x') })).rejects.toBeInstanceOf(InvalidMessageError);
      await expect(bus.publish({ topic: normal, body: text('x'), messageGroup: 'g' })).rejects.toBeInstanceOf(
        InvalidMessageError,
      );
      await expect(
        bus.publish({ topic: normal, body: text('x'), deliverAt: Date.now() }),
      ).rejects.toBeInstanceOf(InvalidMessageError);
    });
  });
}

function str(m: ReceivedMessage): string {
  return Buffer.from(m.body).toString();
}

function text(s: string): Uint8Array {
  return Buffer.from(s);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitUntil(cond: () => boolean, timeoutMs: number, describe?: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) {
      throw new Error(`condition not met within ${timeoutMs} ms${describe ? `: ${describe()}` : ''}`);
    }
    await sleep(10);
  }
}

/** Collects what a subscriber was handed; `handleMs` makes each handler take that long. */
class Inbox {
  readonly messages: ReceivedMessage[] = [];
  constructor(private readonly handleMs = 0) {}

  readonly handler = async (m: ReceivedMessage): Promise<void> => {
    this.messages.push(m);
    if (this.handleMs > 0) await sleep(this.handleMs);
  };

  async waitFor(count: number, timeoutMs: number): Promise<ReceivedMessage[]> {
    await waitUntil(
      () => this.messages.length >= count,
      timeoutMs,
      () => `got ${this.messages.length} of ${count}`,
    );
    return this.messages.slice(0, count);
  }

  async waitForIds(ids: readonly string[], timeoutMs: number): Promise<void> {
    const want = new Set(ids);
    await waitUntil(
      () => this.messages.filter((m) => want.has(m.id)).length >= want.size,
      timeoutMs,
      () => `got ${this.messages.length} of ${want.size}`,
    );
  }
}
