import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import pino from 'pino';
import { MemoryBus } from '@mqim/bus';
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
  mqim,
} from '@mqim/protocol';
import { createSqliteStore, type NewMessage, type Store } from '@mqim/store';
import { waitFor } from '@mqim/testing';
import { Logic } from './logic';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Pipelined sends under a failing broker (review findings on the first version): an intent
 * publish that fails while the conversation's next message is still being stored must not take
 * the process down (an unhandled rejection ends Node), and another conversation's failure must
 * not lift this conversation's hold (its later messages would overtake the failed one).
 */
describe('logic - pipelined sends when a publish fails', () => {
  const LANES = 8;
  const names = new MqNames('pipefail');
  const X = 's:1:2';
  // A conversation in another upstream lane than X.
  let yFrom = 3;
  while (laneOf(`s:${yFrom}:${yFrom + 1}`, LANES) === laneOf(X, LANES)) yFrom += 2;
  const Y = `s:${yFrom}:${yFrom + 1}`;

  let bus: MemoryBus;
  let logic: Logic;

  afterEach(async () => {
    await logic?.stop();
    await bus?.close();
  });

  const request = (from: number, to: number, key: string, clientMsgId: string) =>
    mqim.v1.UpstreamRequest.encode({
      gateId: 'g1',
      connId: `c${from}`,
      userId: from,
      cmd: CommandId.MSG_DATA,
      seq: 1,
      orderKey: key,
      receivedAtMs: Date.now(),
      body: CIM.Message.CIMMsgData.encode({
        fromUserId: from,
        toSessionId: to,
        clientMsgId,
        msgType: 1,
        sessionType: 1,
        msgData: Buffer.from(clientMsgId),
      }).finish(),
    }).finish();

  /**
   * Logic on a memory bus and SQLite whose saves of the named messages take `delays` ms (or fail
   * once: `failOnce`), and whose first intent publish fails after 5 ms. Returns X's intents in the
   * order the job would receive them.
   */
  async function setup(delays: Record<string, number>, failOnce: Set<string>) {
    bus = new MemoryBus({ retryDelayMs: 10, logger: pino({ level: 'silent' }) });
    const real = await createSqliteStore({ filename: ':memory:' });
    const messages = Object.create(real.messages) as Store['messages'];
    messages.save = async (m: NewMessage, owners: readonly number[]) => {
      const delay = delays[m.clientMsgId];
      if (delay !== undefined) {
        delete delays[m.clientMsgId];
        await sleep(delay);
      }
      if (failOnce.delete(m.clientMsgId))
        throw Object.assign(new Error('database went away'), { code: 'IM_ERR_STORE_UNAVAILABLE' });
      return real.messages.save(m, owners);
    };
    const store = Object.assign(Object.create(real) as Store, { messages });
    for (let u = 1; u <= yFrom + 1; u++) await real.users.create({ userId: u, nickName: `u${u}` });
    await bus.ensureTopics([...names.sharedTopics(), names.gateTopic('g1')]);
    await bus.ensureGroups([
      ...names.sharedGroups(),
      names.gateGroupSpec('g1'),
      { name: 'pf-watch', orderly: true },
    ]);
    const seen: string[] = [];
    await bus.subscribe({ topic: names.deliver, group: 'pf-watch' }, async (m) => {
      for (const i of decodeIntents(m.body, m.tag))
        if (i.orderKey === X) seen.push(CIM.Message.CIMMsgData.decode(i.body).clientMsgId);
    });
    const publish = bus.publish.bind(bus);
    let intentPublishes = 0;
    bus.publish = async (m) => {
      if (m.topic === names.deliver && intentPublishes++ === 0) {
        await sleep(5);
        throw new Error('broker down');
      }
      return publish(m);
    };
    logic = new Logic(
      {
        topicPrefix: 'pipefail',
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
    return seen;
  }

  const publishBatch = (key: string, requests: Uint8Array[]) =>
    bus.publish({
      topic: names.upstream,
      messageGroup: laneGroup(laneOf(key, LANES)),
      tag: UPSTREAM_BATCH_TAG,
      body: encodeUpstreamBatch(requests),
    });

  it('an intent that fails while the next message is being stored does not end the process', async () => {
    // In its own process: jest only reports an unhandled rejection, Node ends the process on it.
    const root = resolve(__dirname, '../../..');
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'apps/logic/src/testing/failing-intent.scenario.ts'],
      { cwd: root, timeout: 30_000 },
    );
    expect(stdout.trim()).toBe('survived 2');
  }, 40_000);

  it('an intent that fails while the next message is being stored: both delivered once, in order', async () => {
    const seen = await setup({ m2: 50 }, new Set());
    await publishBatch(X, [request(1, 2, X, 'm1'), request(1, 2, X, 'm2')]);
    await waitFor(() => seen.length >= 2, { timeoutMs: 5000, message: 'both intents delivered' });
    // A barrier in the same conversation: a second copy of m1 or m2 would come before it.
    await publishBatch(X, [request(1, 2, X, 'barrier')]);
    await waitFor(() => seen.includes('barrier'), { timeoutMs: 5000, message: 'the barrier delivered' });
    expect(seen).toEqual(['m1', 'm2', 'barrier']);
  });

  it("another conversation's failure does not lift this conversation's hold", async () => {
    // X: m1's intent fails; m2 and m3 are stored later, m3 after Y's batch failed on the store.
    const seen = await setup({ m2: 20, m3: 100, y1: 30 }, new Set(['y1']));
    await publishBatch(X, [request(1, 2, X, 'm1'), request(1, 2, X, 'm2'), request(1, 2, X, 'm3')]);
    await sleep(1);
    await publishBatch(Y, [request(yFrom, yFrom + 1, Y, 'y1')]);
    await waitFor(() => seen.length >= 3, { timeoutMs: 5000, message: "X's intents delivered" });
    await publishBatch(X, [request(1, 2, X, 'barrier')]);
    await waitFor(() => seen.includes('barrier'), { timeoutMs: 5000, message: 'the barrier delivered' });
    expect(seen).toEqual(['m1', 'm2', 'm3', 'barrier']);
  });
});
