import { RocketMqBus } from '@mqim/bus';
import { MemoryCache } from '@mqim/cache';
import { createLogger } from '@mqim/config';
import { describeInfra, probeRocketMq, uniqueName, waitFor } from '@mqim/testing';
import { readiness } from './readiness';

const rmq = probeRocketMq();
const logger = createLogger('bus', process.env.MQIM_LOG_LEVEL ?? 'silent');

describeInfra('readiness on RocketMQ - own topic, consume delay and consumer lag', rmq, () => {
  let bus: RocketMqBus;
  const cache = new MemoryCache();
  const name = uniqueName('ready');

  beforeAll(() => {
    bus = new RocketMqBus({
      endpoints: rmq.proxyEndpoints,
      namesrv: rmq.nameServer,
      awaitDurationMs: 1000,
      logger,
    });
  });
  afterAll(async () => {
    await bus.close();
    await cache.close();
  });

  it('readiness - a topic the name server does not route is named; once provisioned it is ready', async () => {
    const topic = `${name}-gate-x`;
    const health = readiness({ bus, cache, ownTopics: [topic] });
    expect(await health.check()).toEqual([`topic: ${topic} not provisioned (no route on the name server)`]);
    await bus.ensureTopics([{ name: topic, kind: 'fifo', queues: 1 }]);
    expect(await health.check()).toEqual([]);
  }, 60_000);

  it('readiness - a subscription working on a message older than the limit is not ready, and is again once done', async () => {
    const topic = `${name}-work`;
    const group = `${name}-workers`;
    await bus.ensureTopics([{ name: topic, kind: 'normal', queues: 1 }]);
    await bus.ensureGroups([{ name: group, orderly: false }]);
    let release!: () => void;
    const stuck = new Promise<void>((r) => (release = r));
    let handled = 0;
    const sub = await bus.subscribe({ topic, group, invisibleMs: 30_000 }, async () => {
      handled++;
      await stuck;
    });
    try {
      const health = readiness({ bus, cache, maxConsumeDelayMs: 500 });
      expect(await health.check()).toEqual([]);
      await bus.publish({ topic, body: Buffer.from('slow') });
      await waitFor(() => handled === 1, { timeoutMs: 20_000, message: 'the message reached the handler' });
      await waitFor(async () => (await health.check()).length === 1, {
        timeoutMs: 5_000,
        message: 'readiness fails on the stuck message',
      });
      const [problem] = await health.check();
      expect(problem).toMatch(
        new RegExp(
          `^consume delay: ${topic}/${group}: oldest message in flight is \\d+ ms old \\(limit 500 ms\\)$`,
        ),
      );
      release();
      await waitFor(async () => (await health.check()).length === 0, {
        timeoutMs: 5_000,
        message: 'ready again once the message is done',
      });
    } finally {
      release();
      await sub.close();
    }
  }, 60_000);

  it('readiness - a consumer group with more messages waiting on the broker than the limit is not ready, and is again once they are consumed', async () => {
    const topic = `${name}-lag`;
    const group = `${name}-laggers`;
    await bus.ensureTopics([{ name: topic, kind: 'normal', queues: 1 }]);
    await bus.ensureGroups([{ name: group, orderly: false }]);
    let release!: () => void;
    const stuck = new Promise<void>((r) => (release = r));
    let handled = 0;
    // One slot: while the first message is held, the others stay on the broker, unconsumed.
    const sub = await bus.subscribe({ topic, group, concurrency: 1, invisibleMs: 30_000 }, async () => {
      handled++;
      await stuck;
    });
    try {
      const health = readiness({ bus, cache, maxLag: 3 });
      expect(await health.check()).toEqual([]);
      for (let i = 0; i < 8; i++) await bus.publish({ topic, body: Buffer.from(`m${i}`) });
      await waitFor(async () => (await health.check()).length === 1, {
        timeoutMs: 20_000,
        message: 'readiness fails on the backlog',
      });
      const [problem] = await health.check();
      expect(problem).toMatch(
        new RegExp(`^consumer lag: ${topic}/${group}: \\d+ messages not consumed \\(limit 3\\)$`),
      );
      release();
      await waitFor(() => handled === 8, { timeoutMs: 30_000, message: 'every message consumed' });
      await waitFor(async () => (await health.check()).length === 0, {
        timeoutMs: 10_000,
        message: 'ready again once the backlog is consumed',
      });
    } finally {
      release();
      await sub.close();
    }
  }, 90_000);
});
