import pino from 'pino';
import type { OutgoingMessage } from '@mqim/bus';
import { recordingBus } from '@mqim/bus/testing';
import { GatePublisher } from '@mqim/delivery';
import { MemoryCache } from '@mqim/cache';
import { MqimMetrics } from '@mqim/metrics';
import { CommandId, MqNames, mqim } from '@mqim/protocol';
import { waitFor } from '@mqim/testing';
import { DeliveryConsumer, type PushScheduler } from './delivery.consumer';

/**
 * At-least-once across the job hop: a delivery intent is acked (its handler resolves) only after
 * the gate batch holding it is stored by the broker; a failed publish fails the handler so the
 * intent comes back. Also: intents for one gate inside the window travel in one MQ message.
 */
describe('job - delivery intents are acked only after their gate batch is stored', () => {
  const names = new MqNames('jobord');
  const metrics = new MqimMetrics({ defaultMetrics: false });
  const logger = pino({ level: 'silent' });

  async function setup(answer?: (m: OutgoingMessage) => Promise<string>, push?: PushScheduler) {
    const cache = new MemoryCache();
    await cache.routes.register({ userId: 2, gateId: 'g1', connId: 'c2', clientType: 1, loginAt: 0 }, 60_000);
    await cache.routes.register({ userId: 3, gateId: 'g1', connId: 'c3', clientType: 1, loginAt: 0 }, 60_000);
    const { bus, published } = recordingBus(answer);
    const gates = new GatePublisher(bus, names, metrics, { windowMs: 5, tag: 'deliver' });
    return { consumer: new DeliveryConsumer(cache.routes, gates, metrics, logger, push), published };
  }
  /** A delivery intent; with `push`, one of a chat message from user 9 (who has no route). */
  const intent = (userIds: number[], body: Uint8Array = Buffer.from('m'), push?: mqim.v1.IPushCheck) => ({
    id: 'x',
    topic: names.deliver,
    keys: [],
    deliveryAttempt: 1,
    bornAt: Date.now(),
    body: mqim.v1.DeliveryIntent.encode({ userIds, cmd: CommandId.MSG_DATA, body, push }).finish(),
  });
  const chat = { fromUserId: 9, serverMsgId: 1, sessionType: 1, sessionId: 9 };

  it('ordering - the handler waits for the broker, and fails when the publish fails', async () => {
    let release!: (id: string) => void;
    let fail!: (err: Error) => void;
    const { consumer, published } = await setup(
      () => new Promise<string>((res, rej) => ((release = res), (fail = rej))),
    );
    let done = false;
    const handled = consumer.handle(intent([2])).then(() => (done = true));
    await waitFor(() => published.length === 1, { message: 'the gate batch was not published' });
    // Nothing but release() can complete the publish the handler waits for.
    expect(done).toBe(false);
    release('id');
    await handled;
    expect(done).toBe(true);

    const failing = consumer.handle(intent([3]));
    await waitFor(() => published.length === 2, { message: 'the second gate batch was not published' });
    fail(new Error('broker down'));
    await expect(failing).rejects.toThrow('broker down');
  });

  it('ordering - the push check is stored beside the gate batch (not after it), and both precede the ack', async () => {
    let scheduled!: { resolve(): void; reject(e: Error): void };
    let release!: (id: string) => void;
    let checkedOnline: number[] = [];
    let checks = 0;
    const push: PushScheduler = {
      scheduleCheck: (_p, online) => {
        checkedOnline = online;
        checks++;
        return new Promise<void>((resolve, reject) => (scheduled = { resolve, reject }));
      },
      pushOffline: async () => undefined,
    };
    const { consumer, published } = await setup(() => new Promise<string>((res) => (release = res)), push);
    let done = false;
    const handled = consumer.handle(intent([2, 9], undefined, chat)).then(() => (done = true));
    await waitFor(() => published.length === 1 && checks === 1, { message: 'batch and check not both sent' });
    // Both are on their way while the gate batch is not stored yet: the lane does not wait for
    // one publish after the other.
    expect(published).toHaveLength(1);
    expect(checkedOnline).toEqual([2]);
    release('id');
    // One event-loop turn: every promise reaction the release set off has run (no timer is
    // involved once the batch is out), so the handler has seen the gate batch stored.
    await new Promise((r) => setImmediate(r));
    // The gate batch is stored, the push check not yet: not acked.
    expect(done).toBe(false);
    scheduled.resolve();
    await handled;

    const failing = consumer.handle(intent([2, 9], undefined, chat));
    await waitFor(() => published.length === 2 && checks === 2, { message: 'batch and check not both sent' });
    release('id');
    scheduled.reject(new Error('delay topic down'));
    await expect(failing).rejects.toThrow('delay topic down');
  });

  it('ordering - when the gate publish fails, no offline user is pushed (the redelivered intent will)', async () => {
    let offlinePushed = 0;
    const { consumer } = await setup(() => Promise.reject(new Error('broker down')), {
      scheduleCheck: async () => undefined,
      pushOffline: async () => void offlinePushed++,
    });
    // 4 has no route here: an offline recipient.
    await expect(consumer.handle(intent([2, 4, 9], undefined, chat))).rejects.toThrow('broker down');
    expect(offlinePushed).toBe(0);
  });

  it('ordering - offline users are pushed once the gate batch is stored', async () => {
    const offline: number[][] = [];
    const { consumer } = await setup(undefined, {
      scheduleCheck: async () => undefined,
      pushOffline: async (_p, users) => void offline.push(users),
    });
    await consumer.handle(intent([2, 4, 9], undefined, chat));
    expect(offline).toEqual([[4]]);
  });

  it('batching - intents for one gate within the window share one MQ message', async () => {
    const { consumer, published } = await setup();
    await Promise.all([
      consumer.handle(intent([2])),
      consumer.handle(intent([3])),
      consumer.handle(intent([2, 3])),
    ]);
    expect(published).toHaveLength(1);
    expect(published[0].topic).toBe(names.gate('g1'));
    const commands = mqim.v1.GateBatch.decode(published[0].body).commands;
    expect(commands.map((c) => (c.userIds ?? []).map(Number))).toEqual([[2], [3], [2, 3]]);
  });

  it('fan-out - a group intent carries its body once per gate, not once per member', async () => {
    const { consumer, published } = await setup();
    const body = Buffer.alloc(60_000, 7); // e.g. a 5,000-member creation notice
    await consumer.handle(intent([2, 3, 4, 5], body)); // 4 and 5 are offline
    expect(published).toHaveLength(1);
    expect(published[0].body.length).toBeLessThan(body.length + 200);
    const [command] = mqim.v1.GateBatch.decode(published[0].body).commands;
    expect((command.userIds ?? []).map(Number)).toEqual([2, 3]);
    expect(Buffer.from(command.body ?? []).equals(body)).toBe(true);
  });
});

describe("job - a send's ack carried in its delivery intent", () => {
  const names = new MqNames('jobreply');
  const metrics = new MqimMetrics({ defaultMetrics: false });
  const logger = pino({ level: 'silent' });

  it("goes to the sender's gate through the job's gate publisher, and the intent is acked only once it is stored", async () => {
    const cache = new MemoryCache();
    await cache.routes.register({ userId: 2, gateId: 'g2', connId: 'c2', clientType: 1, loginAt: 0 }, 60_000);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const { bus, published } = recordingBus(async (m) => {
      if (m.topic === names.gate('g1')) await held;
      return 'id';
    });
    const gates = new GatePublisher(bus, names, metrics, { windowMs: 5, tag: 'deliver' });
    const consumer = new DeliveryConsumer(cache.routes, gates, metrics, logger);
    const ack = Buffer.from('ack-bytes');
    let done = false;
    const handled = consumer
      .handle({
        id: 'x',
        topic: names.deliver,
        keys: [],
        deliveryAttempt: 1,
        bornAt: Date.now(),
        body: mqim.v1.DeliveryIntent.encode({
          userIds: [2, 1],
          cmd: CommandId.MSG_DATA,
          body: Buffer.from('m'),
          reply: { connId: 'c1', cmd: CommandId.MSG_DATA_ACK, seq: 42, body: ack },
          replyGateId: 'g1',
        }).finish(),
      })
      .then(() => (done = true));
    await waitFor(() => published.length === 2, { message: 'the two gate batches were not published' });
    const toSender = published.filter((m) => m.topic === names.gate('g1'));
    expect(toSender).toHaveLength(1);
    const [reply] = mqim.v1.GateBatch.decode(toSender[0]!.body).commands;
    expect(reply).toMatchObject({ connId: 'c1', cmd: CommandId.MSG_DATA_ACK, seq: 42 });
    expect(Buffer.from(reply!.body!)).toEqual(ack);
    const toPeer = published.filter((m) => m.topic === names.gate('g2'));
    expect(mqim.v1.GateBatch.decode(toPeer[0]!.body).commands[0]!.userIds!.map(Number)).toEqual([2]);
    // The ack's gate batch is not stored yet: the intent must not be acked.
    expect(done).toBe(false);
    release();
    await handled;
  });
});
