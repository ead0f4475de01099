import { runCacheContract } from './testing';
import { MemoryCache } from './memory.cache';

runCacheContract('MemoryCache', async () => {
  const cache = new MemoryCache();
  return {
    cache,
    wipe: async () => cache.clear(),
    dispose: () => cache.close(),
  };
});

describe('MemoryCache - receipt memory', () => {
  it('receipts - flushed entries beyond maxReceipts are forgotten; unflushed ones never are', async () => {
    const cache = new MemoryCache({ maxReceipts: 100 });
    for (let s = 1; s <= 1000; s++)
      await cache.receipts.record([{ userId: 1, sessionType: 1, sessionId: s, serverMsgId: 1, at: 1 }]);
    // Nothing flushed yet: all kept.
    expect(cache.receipts.size).toBe(1000);
    await cache.receipts.confirm(await cache.receipts.takeDirty(1000));
    expect(cache.receipts.size).toBe(100);
    // The most recent ones survive.
    expect(await cache.receipts.deliveredUpTo(1, 1, 1000)).toBe(1);
    expect(await cache.receipts.deliveredUpTo(1, 1, 1)).toBe(0);
    await cache.close();
  });
});

describe('MemoryCache - idempotency memory', () => {
  it('idempotency - keys beyond maxIdempotencyKeys are forgotten, oldest first', async () => {
    const cache = new MemoryCache({ maxIdempotencyKeys: 100 });
    for (let k = 1; k <= 1000; k++) {
      expect(await cache.idempotency.claim(`k${k}`, 'f', 60_000)).toEqual({ state: 'claimed' });
      await cache.idempotency.complete(`k${k}`, 'f', `r${k}`, 60_000);
    }
    expect(cache.idempotency.size).toBe(100);
    // The newest survive and still replay; the oldest were forgotten (a retry runs again).
    expect(await cache.idempotency.claim('k1000', 'f', 60_000)).toEqual({
      state: 'done',
      fingerprint: 'f',
      response: 'r1000',
    });
    expect(await cache.idempotency.claim('k1', 'f', 60_000)).toEqual({ state: 'claimed' });
    expect(cache.idempotency.size).toBe(100);
    await cache.close();
  });
});
