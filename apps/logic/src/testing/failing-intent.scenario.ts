/**
 * Run as its own process by pipelining-failures.spec.ts (an unhandled rejection ends a Node
 * process; inside jest it would only be reported): one conversation's m1 and m2 in one upstream
 * batch, m2's save slow, m1's intent publish failing meanwhile. Prints "survived <stored>" and
 * exits 0 when the process lived through it.
 */
import pino from 'pino';
import { MemoryBus } from '@mqim/bus';
import { MemoryCache } from '@mqim/cache';
import { MqimMetrics } from '@mqim/metrics';
import {
  CIM,
  CommandId,
  MqNames,
  UPSTREAM_BATCH_TAG,
  encodeUpstreamBatch,
  laneGroup,
  laneOf,
  mqim,
} from '@mqim/protocol';
import { createSqliteStore, type NewMessage, type Store } from '@mqim/store';
import { Logic } from '../logic';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const names = new MqNames('failint');
  const bus = new MemoryBus({ retryDelayMs: 10, logger: pino({ level: 'silent' }) });
  const real = await createSqliteStore({ filename: ':memory:' });
  const messages = Object.create(real.messages) as Store['messages'];
  messages.save = async (m: NewMessage, owners: readonly number[]) => {
    if (m.clientMsgId === 'm2') await sleep(50);
    return real.messages.save(m, owners);
  };
  const store = Object.assign(Object.create(real) as Store, { messages });
  for (let u = 1; u <= 2; u++) await real.users.create({ userId: u, nickName: `u${u}` });
  await bus.ensureTopics([...names.sharedTopics(), names.gateTopic('g1')]);
  await bus.ensureGroups([...names.sharedGroups(), names.gateGroupSpec('g1')]);
  const publish = bus.publish.bind(bus);
  let intents = 0;
  bus.publish = async (m) => {
    if (m.topic === names.deliver && intents++ === 0) {
      await sleep(5);
      throw new Error('broker down');
    }
    return publish(m);
  };
  const logic = new Logic(
    { topicPrefix: 'failint', historyLimitMax: 100, maxMsgDataBytes: 1024, loginPolicy: 'many', lanes: 3 },
    {
      bus,
      store,
      cache: new MemoryCache(),
      metrics: new MqimMetrics({ defaultMetrics: false }),
      logger: pino({ level: 'silent' }),
    },
  );
  await logic.start();
  const request = (id: string) =>
    mqim.v1.UpstreamRequest.encode({
      gateId: 'g1',
      connId: 'c1',
      userId: 1,
      cmd: CommandId.MSG_DATA,
      seq: 1,
      orderKey: 's:1:2',
      receivedAtMs: Date.now(),
      body: CIM.Message.CIMMsgData.encode({
        fromUserId: 1,
        toSessionId: 2,
        clientMsgId: id,
        msgType: 1,
        sessionType: 1,
        msgData: Buffer.from(id),
      }).finish(),
    }).finish();
  await bus.publish({
    topic: names.upstream,
    messageGroup: laneGroup(laneOf('s:1:2', 3)),
    tag: UPSTREAM_BATCH_TAG,
    body: encodeUpstreamBatch([request('m1'), request('m2')]),
  });
  await sleep(500);
  console.log(`survived ${(await store.messages.history(1, 1, 2, { limit: 10 })).length}`);
  await logic.stop();
  await bus.close();
}

void main();
