import { createLogger } from '@mqim/config';
import { describeInfra, probeRocketMq, uniqueName, waitFor } from '@mqim/testing';
import { RocketMqBus } from '../rocketmq.bus';

const rmq = probeRocketMq();
const logger = createLogger('bus', process.env.MQIM_LOG_LEVEL ?? 'silent');

describeInfra('RocketMqBus - consumer lag from the broker', rmq, () => {
  let bus: RocketMqBus;
  beforeAll(() => {
    bus = new RocketMqBus({
      endpoints: rmq.proxyEndpoints,
      namesrv: rmq.nameServer,
      awaitDurationMs: 1000,
      logger,
    });
  });
  afterAll(() => bus.close());

  it('lag - counts messages published and not consumed, and drops to 0 once the group consumed them', async () => {
    const topic = uniqueName('lag_topic');
    const group = uniqueName('lag_group');
    await bus.ensureTopics([{ name: topic, kind: 'normal', queues: 2 }]);
    await bus.ensureGroups([{ name: group, orderly: false }]);
    expect(await bus.consumerLag(group, topic)).toMatchObject({ group, topic, lag: 0, queues: 2 });

    for (let i = 0; i < 5; i++) await bus.publish({ topic, body: Buffer.from(`m${i}`) });
    const before = await bus.consumerLag(group, topic);
    expect(before.lag).toBe(5);

    let handled = 0;
    const sub = await bus.subscribe({ topic, group }, async () => {
      handled++;
    });
    try {
      await waitFor(() => handled >= 5, { timeoutMs: 20_000, message: 'the group consumed the 5 messages' });
      await waitFor(async () => (await bus.consumerLag(group, topic)).lag === 0, {
        timeoutMs: 15_000,
        message: 'the broker reports lag 0',
      });
      expect((await bus.consumerLag(group, topic)).lastConsumedAt).toBeGreaterThan(Date.now() - 120_000);
    } finally {
      await sub.close();
    }
  });
});
