import pino from 'pino';
import { MemoryCache, type DirtyBatch, type ReceiptBuffer, type ReceiptEntry } from '@mqim/cache';
import { MqNames, RECEIPT_BATCH_TAG, mqim } from '@mqim/protocol';
import { createSqliteStore, type Store } from '@mqim/store';
import { ReceiptConsumer } from './receipt.consumer';
import { ReceiptFlusher } from './receipt.flusher';

/** Issue 10 #5: one bad receipt must not stop receipt storage for everyone else. */
describe('job - receipts with a bad id', () => {
  const names = new MqNames('rf');
  const silent = pino({ level: 'silent' });
  let store: Store;

  beforeEach(async () => {
    store = await createSqliteStore({ filename: ':memory:' });
  });
  afterEach(async () => {
    await store.close();
  });

  const batch = (receipts: mqim.v1.IDeliveryReceipt[]) => ({
    id: 'm',
    topic: names.receipt,
    body: mqim.v1.DeliveryReceiptBatch.encode({ receipts }).finish(),
    tag: RECEIPT_BATCH_TAG,
    keys: [],
    deliveryAttempt: 1,
    bornAt: Date.now(),
  });

  it('receipts - a receipt for session 0 is dropped on entry; the others and later ones are stored', async () => {
    const cache = new MemoryCache();
    // Users 8 and 9 have a conversation (receipts naming anything else are dropped on entry too).
    await store.messages.save(
      {
        serverMsgId: 5,
        clientMsgId: 'c5',
        fromUserId: 8,
        sessionType: 1,
        toSessionId: 9,
        msgType: 1,
        msgData: Buffer.from('hi'),
        attach: '',
        senderClientType: 1,
        msgStatus: 5,
        createTime: 1_700_000_000,
      },
      [8, 9],
    );
    const consumer = new ReceiptConsumer(cache.receipts, store, silent);
    const flusher = new ReceiptFlusher(cache.receipts, store, silent, 1000);
    await consumer.handle(
      batch([
        { userId: 7, sessionType: 1, sessionId: 0, serverMsgId: 3, receivedAtMs: 1000 },
        { userId: 8, sessionType: 1, sessionId: 9, serverMsgId: 4, receivedAtMs: 1001 },
      ]),
    );
    expect(await flusher.flushAll()).toBe(1);
    await consumer.handle(
      batch([{ userId: 9, sessionType: 1, sessionId: 8, serverMsgId: 5, receivedAtMs: 1002 }]),
    );
    expect(await flusher.flushAll()).toBe(1);
    expect((await store.receipts.get(8, 1, 9))?.deliveredMsgId).toBe(4);
    expect((await store.receipts.get(9, 1, 8))?.deliveredMsgId).toBe(5);
    expect((await cache.receipts.takeDirty(10)).entries).toEqual([]);
    await cache.close();
  });

  it('flush - a row the store refuses is dropped alone; the rest of its batch is written', async () => {
    // A buffer holding a row the store refuses, as one written by an older job could.
    const dirty = new Map<string, ReceiptEntry>();
    const put = (e: ReceiptEntry) => dirty.set(`${e.userId}|${e.sessionType}|${e.sessionId}`, e);
    const buffer: ReceiptBuffer = {
      record: async (entries) => void entries.forEach(put),
      deliveredUpTo: async () => 0,
      deliveredUpToMany: async (keys) => keys.map(() => 0),
      takeDirty: async (limit): Promise<DirtyBatch> => ({ entries: [...dirty.values()].slice(0, limit) }),
      confirm: async (b) => {
        for (const e of b.entries) dirty.delete(`${e.userId}|${e.sessionType}|${e.sessionId}`);
      },
    };
    for (let u = 1; u <= 10; u++)
      put({ userId: u, sessionType: 1, sessionId: u === 4 ? 0 : 100, serverMsgId: u, at: 1 });
    const flusher = new ReceiptFlusher(buffer, store, silent, 1000, 4);
    expect(await flusher.flushAll()).toBe(10);
    expect(dirty.size).toBe(0);
    for (let u = 1; u <= 10; u++)
      expect((await store.receipts.get(u, 1, 100))?.deliveredMsgId).toBe(u === 4 ? undefined : u);
    put({ userId: 11, sessionType: 1, sessionId: 100, serverMsgId: 7, at: 2 });
    expect(await flusher.flushAll()).toBe(1);
    expect((await store.receipts.get(11, 1, 100))?.deliveredMsgId).toBe(7);
  });

  it('flush - a store that is down keeps the batch dirty for the next flush', async () => {
    const cache = new MemoryCache();
    await cache.receipts.record([{ userId: 1, sessionType: 1, sessionId: 2, serverMsgId: 3, at: 1 }]);
    const down = Object.create(store) as Store;
    Object.defineProperty(down, 'receipts', {
      value: {
        recordDelivered: async () => {
          throw Object.assign(new Error('gone'), { code: 'IM_ERR_STORE_UNAVAILABLE' });
        },
      },
    });
    expect(await new ReceiptFlusher(cache.receipts, down, silent, 1000).flushAll()).toBe(0);
    expect(await new ReceiptFlusher(cache.receipts, store, silent, 1000).flushAll()).toBe(1);
    expect((await store.receipts.get(1, 1, 2))?.deliveredMsgId).toBe(3);
    await cache.close();
  });
});
