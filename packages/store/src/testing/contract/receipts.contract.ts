import type { ContractFixture } from './fixture';

export function receiptContract(fx: ContractFixture): void {
  describe('receipts', () => {
    it('recordDelivered - keeps the highest id, never moves backwards', async () => {
      const [a, b, c] = fx.ids(3) as [number, number, number];
      expect(await fx.store.receipts.get(a, 1, b)).toBeNull();
      await fx.store.receipts.recordDelivered([
        { ownerUserId: a, sessionType: 1, sessionId: b, msgId: 5, atMs: 5000 },
        { ownerUserId: a, sessionType: 1, sessionId: b, msgId: 9, atMs: 9000 },
        { ownerUserId: a, sessionType: 1, sessionId: b, msgId: 7, atMs: 7000 },
        { ownerUserId: c, sessionType: 2, sessionId: b, msgId: 1, atMs: 1000 },
      ]);
      expect(await fx.store.receipts.get(a, 1, b)).toEqual({
        deliveredMsgId: 9,
        deliveredAtMs: 9000,
        readMsgId: 0,
        readAtMs: 0,
      });
      await fx.store.receipts.recordDelivered([
        { ownerUserId: a, sessionType: 1, sessionId: b, msgId: 3, atMs: 99_000 },
      ]);
      expect(await fx.store.receipts.get(a, 1, b)).toMatchObject({ deliveredMsgId: 9, deliveredAtMs: 9000 });
      await fx.store.receipts.recordDelivered([
        { ownerUserId: a, sessionType: 1, sessionId: b, msgId: 12, atMs: 12_000 },
      ]);
      expect(await fx.store.receipts.get(a, 1, b)).toMatchObject({
        deliveredMsgId: 12,
        deliveredAtMs: 12_000,
      });
      expect(await fx.store.receipts.get(c, 2, b)).toMatchObject({ deliveredMsgId: 1 });
      await expect(fx.store.receipts.recordDelivered([])).resolves.toBeUndefined();
    });

    it('recordDelivered - a large batch is written completely', async () => {
      const owners = fx.ids(3000);
      const [peer] = fx.ids(1) as [number];
      await fx.store.receipts.recordDelivered(
        owners.map((o, i) => ({ ownerUserId: o, sessionType: 1, sessionId: peer, msgId: i + 1, atMs: 1 })),
      );
      expect((await fx.store.receipts.get(owners[2999]!, 1, peer))?.deliveredMsgId).toBe(3000);
      expect((await fx.store.receipts.get(owners[0]!, 1, peer))?.deliveredMsgId).toBe(1);
    });
  });
}
