import pino from 'pino';
import { recordingBus } from '@mqim/bus/testing';
import { MemoryCache } from '@mqim/cache';
import { MqimMetrics } from '@mqim/metrics';
import { MqNames, PUSH_CHECK_BATCH_TAG, mqim } from '@mqim/protocol';
import { PushCheckConsumer, PushCheckScheduler, type OfflinePusher } from './push-check';

describe('push checks', () => {
  const names = new MqNames('pc');
  const logger = pino({ level: 'silent' });
  const metrics = new MqimMetrics({ defaultMetrics: false });
  const check = (serverMsgId: number, sessionId: number) => ({
    sessionType: 1,
    sessionId,
    serverMsgId,
    fromUserId: sessionId,
  });

  it('checks scheduled together share one delayed message; the due batch pushes only the missed', async () => {
    const { bus, published } = recordingBus();
    const pushed: [number[], number][] = [];
    const pusher: OfflinePusher = {
      push: async (userIds, c) => void pushed.push([userIds, Number(c.serverMsgId)]),
    };
    const scheduler = new PushCheckScheduler(bus, names, pusher, metrics, 5000, 5);
    await Promise.all([
      scheduler.scheduleCheck(check(10, 1), [2, 3]),
      scheduler.scheduleCheck(check(11, 1), [2]),
      scheduler.pushOffline(check(11, 1), [4]), // 4 has no route: pushed at once
    ]);
    expect(pushed).toEqual([[[4], 11]]);
    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({ topic: names.pushCheck, tag: PUSH_CHECK_BATCH_TAG });
    expect(published[0].deliverAt).toBeGreaterThan(Date.now() + 4000);

    // When due: user 2 acknowledged up to 11, user 3 nothing.
    const cache = new MemoryCache();
    await cache.receipts.record([{ userId: 2, sessionType: 1, sessionId: 1, serverMsgId: 11, at: 1 }]);
    const consumer = new PushCheckConsumer(cache.receipts, pusher, metrics, logger);
    pushed.length = 0;
    await consumer.handle({
      id: 'x',
      topic: names.pushCheck,
      body: published[0].body,
      tag: published[0].tag,
      keys: [],
      deliveryAttempt: 1,
      bornAt: Date.now(),
    });
    expect(pushed).toEqual([[[3], 10]]);

    // A single untagged PushCheckDue (published by an older job) is still read.
    pushed.length = 0;
    await consumer.handle({
      id: 'y',
      topic: names.pushCheck,
      body: mqim.v1.PushCheckDue.encode({ userIds: [2, 3], push: check(12, 1) }).finish(),
      tag: 'check',
      keys: [],
      deliveryAttempt: 1,
      bornAt: Date.now(),
    });
    expect(pushed).toEqual([[[2, 3], 12]]);
  });
});
