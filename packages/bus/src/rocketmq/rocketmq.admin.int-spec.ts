import { describeInfra, probeRocketMq, uniqueName } from '@mqim/testing';
import { RemotingConnection } from './remoting.client';
import { RocketMqAdmin, TopicKindConflictError } from './rocketmq.admin';

const rmq = probeRocketMq();

describeInfra('RocketMqAdmin', rmq, () => {
  let admin: RocketMqAdmin;
  beforeAll(() => {
    admin = new RocketMqAdmin({ namesrv: rmq.nameServer });
  });
  afterAll(() => admin.close());

  it('cluster - finds the master broker through the name server', async () => {
    const brokers = await admin.masterBrokers();
    expect(brokers.length).toBeGreaterThan(0);
    for (const b of brokers) expect(b).toMatch(/^[\w.-]+:\d+$/);
  });

  it('topics - creates each kind with its message.type and queue count, routed by the name server', async () => {
    const names = {
      normal: uniqueName('adm_normal'),
      fifo: uniqueName('adm_fifo'),
      delay: uniqueName('adm_delay'),
    };
    await admin.ensureTopics([
      { name: names.normal, kind: 'normal', queues: 3 },
      { name: names.fifo, kind: 'fifo', queues: 1 },
      { name: names.delay, kind: 'delay' },
    ]);
    const [broker] = await admin.masterBrokers();
    expect(await admin.topicConfig(broker!, names.normal)).toMatchObject({
      readQueueNums: 3,
      writeQueueNums: 3,
      perm: 6,
      attributes: { 'message.type': 'NORMAL' },
    });
    expect((await admin.topicConfig(broker!, names.fifo))?.attributes).toEqual({ 'message.type': 'FIFO' });
    expect(await admin.topicConfig(broker!, names.delay)).toMatchObject({
      readQueueNums: 8,
      attributes: { 'message.type': 'DELAY' },
    });
    const route = await admin.topicRoute(names.fifo);
    expect(route?.queueDatas[0]).toMatchObject({ readQueueNums: 1, writeQueueNums: 1 });
  });

  it('topics - idempotent: a second ensure leaves the topic alone, a kind change is refused', async () => {
    const name = uniqueName('adm_idem');
    await admin.ensureTopics([{ name, kind: 'fifo', queues: 2 }]);
    await admin.ensureTopics([{ name, kind: 'fifo', queues: 4 }]);
    const [broker] = await admin.masterBrokers();
    expect((await admin.topicConfig(broker!, name))?.readQueueNums).toBe(2);
    await expect(admin.ensureTopics([{ name, kind: 'normal' }])).rejects.toBeInstanceOf(
      TopicKindConflictError,
    );
  });

  it('topics - an unknown topic has no route and no broker config', async () => {
    const name = uniqueName('adm_missing');
    const [broker] = await admin.masterBrokers();
    expect(await admin.topicRoute(name)).toBeUndefined();
    expect(await admin.topicConfig(broker!, name)).toBeUndefined();
  });

  it('groups - created orderly or not, and updated in place', async () => {
    const name = uniqueName('adm_group');
    const [broker] = await admin.masterBrokers();
    await admin.ensureGroups([{ name, orderly: true }]);
    expect(await admin.groupConfig(broker!, name)).toMatchObject({
      groupName: name,
      consumeMessageOrderly: true,
    });
    await admin.ensureGroups([{ name, orderly: false, retryMaxTimes: 3 }]);
    expect(await admin.groupConfig(broker!, name)).toMatchObject({
      consumeMessageOrderly: false,
      retryMaxTimes: 3,
    });
  });

  it('connection - pipelined requests are matched to their responses by opaque', async () => {
    const conn = new RemotingConnection(rmq.nameServer, 3000);
    try {
      const topics = Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? `missing_${i}` : 'TBW102'));
      const answers = await Promise.all(
        topics.map((topic) => conn.request({ code: 105, extFields: { topic } })),
      );
      for (const a of answers) expect(a.code).toBe(17); // TOPIC_NOT_EXIST: nothing auto-created
      expect(new Set(answers.map((a) => a.opaque)).size).toBe(20);
    } finally {
      conn.close();
    }
  });

  it('connection - a dead address fails fast with BusUnavailableError', async () => {
    const conn = new RemotingConnection('127.0.0.1:1', 1000);
    await expect(conn.request({ code: 106 })).rejects.toMatchObject({ code: 'IM_ERR_BUS_UNAVAILABLE' });
    conn.close();
  });
});
