import pino from 'pino';
import { MemoryCache } from '@mqim/cache';
import { MqNames, RECEIPT_BATCH_TAG, mqim } from '@mqim/protocol';
import type { Store } from '@mqim/store';
import { ReceiptConsumer } from './receipt.consumer';

describe('ReceiptConsumer', () => {
  const names = new MqNames('rc');
  // Every receipt here names its server_msg_id, so the store is asked only whether its sessions
  // exist (all do, here).
  const everySession = { existing: async (keys: readonly unknown[]) => keys.map(() => true) };
  const store = { sessions: everySession } as unknown as Store;
  const message = (body: Uint8Array, tag?: string) => ({
    id: 'm',
    topic: names.receipt,
    body,
    tag,
    keys: [],
    deliveryAttempt: 1,
    bornAt: Date.now(),
  });

  it('records every receipt of a gate batch, and still reads a single untagged receipt', async () => {
    const cache = new MemoryCache();
    const consumer = new ReceiptConsumer(cache.receipts, store, pino({ level: 'silent' }));
    const batch = mqim.v1.DeliveryReceiptBatch.encode({
      receipts: [
        { userId: 7, sessionType: 1, sessionId: 8, serverMsgId: 3, receivedAtMs: 1000 },
        { userId: 7, sessionType: 2, sessionId: 90, serverMsgId: 12, receivedAtMs: 1001 },
        { userId: 7, sessionType: 5, sessionId: 90, serverMsgId: 13, receivedAtMs: 1002 }, // bad type: skipped
      ],
    }).finish();
    await consumer.handle(message(batch, RECEIPT_BATCH_TAG));
    const single = mqim.v1.DeliveryReceipt.encode({
      userId: 9,
      sessionType: 1,
      sessionId: 7,
      serverMsgId: 4,
      receivedAtMs: 1003,
    }).finish();
    await consumer.handle(message(single, 'MSG_DATA_ACK'));

    expect(await cache.receipts.deliveredUpTo(7, 1, 8)).toBe(3);
    expect(await cache.receipts.deliveredUpTo(7, 2, 90)).toBe(12);
    expect(await cache.receipts.deliveredUpTo(9, 1, 7)).toBe(4);
    expect((await cache.receipts.takeDirty(100)).entries).toHaveLength(3);
  });

  it('drops an undecodable message instead of retrying it forever', async () => {
    const cache = new MemoryCache();
    const consumer = new ReceiptConsumer(cache.receipts, store, pino({ level: 'silent' }));
    await expect(consumer.handle(message(Buffer.from([0xff, 0xff, 0xff]), RECEIPT_BATCH_TAG))).resolves.toBe(
      undefined,
    );
    expect((await cache.receipts.takeDirty(100)).entries).toHaveLength(0);
  });

  it('a receipt naming only client_msg_id is resolved through the store; an unknown one is dropped', async () => {
    const cache = new MemoryCache();
    const asked: string[][] = [];
    const lookingUp = {
      sessions: everySession,
      messages: {
        findByClientIds: async (_owner: number, _type: number, _session: number, ids: string[]) => {
          asked.push(ids);
          return ids[0] === 'known' ? [{ serverMsgId: 21 }] : [];
        },
      },
    } as unknown as Store;
    const consumer = new ReceiptConsumer(cache.receipts, lookingUp, pino({ level: 'silent' }));
    const batch = mqim.v1.DeliveryReceiptBatch.encode({
      receipts: [
        { userId: 7, sessionType: 1, sessionId: 8, clientMsgId: 'known', receivedAtMs: 1 },
        { userId: 7, sessionType: 1, sessionId: 9, clientMsgId: 'forged', receivedAtMs: 2 },
        { userId: 7, sessionType: 1, sessionId: 10, serverMsgId: 5, clientMsgId: 'x', receivedAtMs: 3 },
      ],
    }).finish();
    await consumer.handle(message(batch, RECEIPT_BATCH_TAG));
    expect(asked).toEqual([['known'], ['forged']]); // the third names its id: no lookup
    expect(await cache.receipts.deliveredUpTo(7, 1, 8)).toBe(21);
    expect(await cache.receipts.deliveredUpTo(7, 1, 9)).toBe(0);
    expect(await cache.receipts.deliveredUpTo(7, 1, 10)).toBe(5);
  });

  it('a receipt naming a session its sender has no conversation with is dropped; known sessions cost no query', async () => {
    const cache = new MemoryCache();
    const asked: string[][] = [];
    const parties = new Set(['7:1:8', '7:2:90']);
    const guarded = {
      sessions: {
        existing: async (keys: { ownerUserId: number; sessionType: number; sessionId: number }[]) => {
          const named = keys.map((k) => `${k.ownerUserId}:${k.sessionType}:${k.sessionId}`);
          asked.push(named);
          return named.map((n) => parties.has(n));
        },
      },
    } as unknown as Store;
    const consumer = new ReceiptConsumer(cache.receipts, guarded, pino({ level: 'silent' }));
    const receipts = (serverMsgId: number) =>
      mqim.v1.DeliveryReceiptBatch.encode({
        receipts: [
          { userId: 7, sessionType: 1, sessionId: 8, serverMsgId, receivedAtMs: 1 },
          { userId: 7, sessionType: 1, sessionId: 66, serverMsgId, receivedAtMs: 2 }, // forged
          { userId: 7, sessionType: 2, sessionId: 90, serverMsgId, receivedAtMs: 3 },
          { userId: 7, sessionType: 2, sessionId: 91, serverMsgId, receivedAtMs: 4 }, // not a member
        ],
      }).finish();
    await consumer.handle(message(receipts(3), RECEIPT_BATCH_TAG));
    expect(await cache.receipts.deliveredUpTo(7, 1, 8)).toBe(3);
    expect(await cache.receipts.deliveredUpTo(7, 2, 90)).toBe(3);
    expect(await cache.receipts.deliveredUpTo(7, 1, 66)).toBe(0);
    expect(await cache.receipts.deliveredUpTo(7, 2, 91)).toBe(0);
    expect(asked).toEqual([['7:1:8', '7:1:66', '7:2:90', '7:2:91']]);
    // Next batch: the two real sessions are known; only the unknown ones are asked, in one query.
    await consumer.handle(message(receipts(4), RECEIPT_BATCH_TAG));
    expect(asked[1]).toEqual(['7:1:66', '7:2:91']);
    expect(await cache.receipts.deliveredUpTo(7, 1, 8)).toBe(4);
    expect((await cache.receipts.takeDirty(100)).entries).toHaveLength(2);
  });
});
