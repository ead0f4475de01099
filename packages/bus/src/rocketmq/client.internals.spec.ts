import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Producer, SimpleConsumer } from 'rocketmq-client-nodejs';
import {
  AckMessageRequest,
  ForwardMessageToDeadLetterQueueRequest,
} from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/service_pb';
import { PINNED_CLIENT_VERSION, RPC_OK, requestTimeoutOf } from './client.internals';

/**
 * client.internals.ts relies on parts of rocketmq-client-nodejs that are not its public API. These
 * checks fail when an upgrade changes any of them, before a broker ever sees the new client.
 */
describe('rocketmq client internals - pinned', () => {
  // Building a client starts an idle-connection sweep on an interval; nothing here connects, so
  // fake timers keep that interval from holding the test process open.
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());
  const logger = {
    info: () => undefined,
    warn: () => undefined,
    error: () => undefined,
    debug: () => undefined,
  };

  it('pinning - the installed client is the version the internals were written against, pinned exactly', () => {
    const pkg = JSON.parse(readFileSync(require.resolve('rocketmq-client-nodejs/package.json'), 'utf8')) as {
      version: string;
    };
    expect(pkg.version).toBe(PINNED_CLIENT_VERSION);
    const root = JSON.parse(readFileSync(join(__dirname, '../../../../package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    // A caret range would let `npm install` move past the checked version.
    expect(root.dependencies['rocketmq-client-nodejs']).toBe(PINNED_CLIENT_VERSION);
  });

  it('pinning - the protected route lookup and the RPC helpers still exist on the client classes', () => {
    const producer = new Producer({ endpoints: '127.0.0.1:1', namespace: '', logger });
    expect(typeof (producer as unknown as { getRouteData: unknown }).getRouteData).toBe('function');
    expect(typeof SimpleConsumer.prototype.ackMessageViaRpc).toBe('function');
    expect(typeof SimpleConsumer.prototype.forwardMessageToDeadLetterQueueViaRpc).toBe('function');
  });

  it('pinning - the consumer keeps its request timeout where requestTimeoutOf reads it', () => {
    const consumer = new SimpleConsumer({
      endpoints: '127.0.0.1:1',
      namespace: '',
      consumerGroup: 'pin-check',
      subscriptions: new Map([['pin-check', '*']]),
      requestTimeout: 4321,
      logger,
    });
    expect(requestTimeoutOf(consumer)).toBe(4321);
  });

  it('pinning - the generated request classes build the fields the helpers set', () => {
    expect(RPC_OK).toBe(20000);
    const ack = new AckMessageRequest();
    ack.addEntries().setMessageId('m').setReceiptHandle('h');
    expect(ack.getEntriesList().map((e) => [e.getMessageId(), e.getReceiptHandle()])).toEqual([['m', 'h']]);
    const dlq = new ForwardMessageToDeadLetterQueueRequest().setDeliveryAttempt(3).setMaxDeliveryAttempts(16);
    expect([dlq.getDeliveryAttempt(), dlq.getMaxDeliveryAttempts()]).toEqual([3, 16]);
  });
});
