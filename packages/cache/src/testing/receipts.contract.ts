import type { ReceiptEntry } from '../cache.port';
import type { FixtureRef } from './cache.contract';

function receipt(
  userId: number,
  sessionId: number,
  serverMsgId: number,
  at = serverMsgId * 10,
  sessionType = 1,
): ReceiptEntry {
  return { userId, sessionType, sessionId, serverMsgId, at };
}

function byKey(entries: readonly ReceiptEntry[]): ReceiptEntry[] {
  return [...entries].sort(
    (a, b) => a.userId - b.userId || a.sessionType - b.sessionType || a.sessionId - b.sessionId,
  );
}

export function describeReceiptContract(fixture: FixtureRef): void {
  describe('receipts', () => {
    it('receipts - deliveredUpTo is 0 for an unknown session', async () => {
      const { receipts } = fixture().cache;
      expect(await receipts.deliveredUpTo(1, 1, 2)).toBe(0);
    });

    it('receipts - the highest serverMsgId is kept, within a batch and across batches', async () => {
      const { receipts } = fixture().cache;
      await receipts.record([receipt(1, 2, 5), receipt(1, 2, 9), receipt(1, 2, 7)]);
      expect(await receipts.deliveredUpTo(1, 1, 2)).toBe(9);
      await receipts.record([receipt(1, 2, 3)]);
      expect(await receipts.deliveredUpTo(1, 1, 2)).toBe(9);
      await receipts.record([receipt(1, 2, 12)]);
      expect(await receipts.deliveredUpTo(1, 1, 2)).toBe(12);
    });

    it('receipts - deliveredUpToMany answers every key in order, 0 for the unknown ones', async () => {
      const { receipts } = fixture().cache;
      expect(await receipts.deliveredUpToMany([])).toEqual([]);
      const members = Array.from({ length: 1200 }, (_, i) => i + 1);
      await receipts.record(members.filter((u) => u % 3 !== 0).map((u) => receipt(u, 77, u + 10, 5, 2)));
      await receipts.record([receipt(5, 78, 99, 5, 2), receipt(6, 77, 4, 5, 1)]);
      const got = await receipts.deliveredUpToMany(
        members.map((userId) => ({ userId, sessionType: 2, sessionId: 77 })),
      );
      expect(got).toEqual(members.map((u) => (u % 3 === 0 ? 0 : u + 10)));
      // Other sessions of the same users are their own.
      expect(
        await receipts.deliveredUpToMany([
          { userId: 5, sessionType: 2, sessionId: 78 },
          { userId: 6, sessionType: 1, sessionId: 77 },
          { userId: 6, sessionType: 2, sessionId: 78 },
        ]),
      ).toEqual([99, 4, 0]);
      await expect(
        receipts.deliveredUpToMany([
          { userId: 1, sessionType: 2, sessionId: 77 },
          { userId: -1, sessionType: 2, sessionId: 77 },
        ]),
      ).rejects.toThrow(/userId/);
    });

    it('receipts - sessions are keyed by user, session type and session id', async () => {
      const { receipts } = fixture().cache;
      await receipts.record([
        receipt(1, 2, 5, 50, 1),
        receipt(1, 2, 6, 60, 2),
        receipt(2, 2, 7),
        receipt(1, 3, 8),
      ]);
      expect(await receipts.deliveredUpTo(1, 1, 2)).toBe(5);
      expect(await receipts.deliveredUpTo(1, 2, 2)).toBe(6);
      expect(await receipts.deliveredUpTo(2, 1, 2)).toBe(7);
      expect(await receipts.deliveredUpTo(1, 1, 3)).toBe(8);
    });

    it('receipts - takeDirty hands out the max with its time; confirm clears it', async () => {
      const { receipts } = fixture().cache;
      await receipts.record([receipt(1, 2, 5, 500), receipt(1, 2, 9, 900), receipt(3, 4, 1, 100)]);
      const batch = await receipts.takeDirty(100);
      expect(byKey(batch.entries)).toEqual([receipt(1, 2, 9, 900), receipt(3, 4, 1, 100)]);
      // Taking does not clear anything.
      expect(byKey((await receipts.takeDirty(100)).entries)).toEqual(byKey(batch.entries));
      await receipts.confirm(batch);
      expect((await receipts.takeDirty(100)).entries).toEqual([]);
      expect(await receipts.deliveredUpTo(1, 1, 2)).toBe(9);
    });

    it('receipts - an update between take and confirm stays dirty with its new value', async () => {
      const { receipts } = fixture().cache;
      await receipts.record([receipt(1, 2, 5, 500), receipt(1, 3, 5, 500)]);
      const batch = await receipts.takeDirty(100);
      expect(batch.entries).toHaveLength(2);
      await receipts.record([receipt(1, 2, 6, 600)]);
      await receipts.confirm(batch);
      expect((await receipts.takeDirty(100)).entries).toEqual([receipt(1, 2, 6, 600)]);
    });

    it('receipts - a receipt that does not raise the max marks nothing dirty', async () => {
      const { receipts } = fixture().cache;
      await receipts.record([receipt(1, 2, 5)]);
      await receipts.confirm(await receipts.takeDirty(10));
      await receipts.record([receipt(1, 2, 5, 999), receipt(1, 2, 4)]);
      expect((await receipts.takeDirty(10)).entries).toEqual([]);
    });

    it('receipts - takeDirty respects its limit and repeated take/confirm drains everything', async () => {
      const { receipts } = fixture().cache;
      const all = Array.from({ length: 250 }, (_, i) => receipt(1 + (i % 50), 1000 + i, 1 + i));
      await receipts.record(all);
      const flushed: ReceiptEntry[] = [];
      for (let round = 0; round < 10; round++) {
        const batch = await receipts.takeDirty(100);
        if (batch.entries.length === 0) break;
        expect(batch.entries.length).toBeLessThanOrEqual(100);
        flushed.push(...batch.entries);
        await receipts.confirm(batch);
      }
      expect(byKey(flushed)).toEqual(byKey(all));
    });

    it('receipts - after the data is lost, deliveredUpTo reads 0 and new receipts are recorded again', async () => {
      const fx = fixture();
      await fx.cache.receipts.record([receipt(1, 2, 9)]);
      await fx.wipe();
      expect(await fx.cache.receipts.deliveredUpTo(1, 1, 2)).toBe(0);
      expect((await fx.cache.receipts.takeDirty(10)).entries).toEqual([]);
      await fx.cache.receipts.record([receipt(1, 2, 3)]);
      expect(await fx.cache.receipts.deliveredUpTo(1, 1, 2)).toBe(3);
      expect((await fx.cache.receipts.takeDirty(10)).entries).toEqual([receipt(1, 2, 3)]);
    });

    it('receipts - large ids round-trip exactly', async () => {
      const { receipts } = fixture().cache;
      const big = Number.MAX_SAFE_INTEGER - 1;
      await receipts.record([receipt(big, big, big, 1_700_000_000_123)]);
      expect(await receipts.deliveredUpTo(big, 1, big)).toBe(big);
      expect((await receipts.takeDirty(1)).entries).toEqual([receipt(big, big, big, 1_700_000_000_123)]);
    });

    it('receipts - invalid entries are rejected and nothing is recorded', async () => {
      const { receipts } = fixture().cache;
      const invalid = { code: 'IM_ERR_CACHE_INVALID_ARGUMENT' };
      await expect(receipts.record([receipt(1, 2, 3), receipt(1, 2, -3)])).rejects.toMatchObject(invalid);
      await expect(receipts.takeDirty(0)).rejects.toMatchObject(invalid);
      expect(await receipts.deliveredUpTo(1, 1, 2)).toBe(0);
    });

    it('receipts - a zero user, session or message id is rejected: the store could never take it', async () => {
      const { receipts } = fixture().cache;
      const invalid = { code: 'IM_ERR_CACHE_INVALID_ARGUMENT' };
      await expect(receipts.record([receipt(1, 0, 3)])).rejects.toMatchObject(invalid);
      await expect(receipts.record([receipt(0, 2, 3)])).rejects.toMatchObject(invalid);
      await expect(receipts.record([receipt(1, 2, 0)])).rejects.toMatchObject(invalid);
      expect((await receipts.takeDirty(10)).entries).toEqual([]);
    });
  });
}
