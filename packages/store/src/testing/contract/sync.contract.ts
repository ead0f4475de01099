import { RECALLED_MSG_STATUS, StoreInvalidArgumentError } from '../../index';
import { textMessage, type ContractFixture } from './fixture';

/** Sync after reconnect (`messages.after`, `sessions.positions`) and recall (docs/adr/0013). */
export function syncContract(fx: ContractFixture): void {
  describe('sync and recall', () => {
    it('after - pages forward from a server id, ascending, no gaps and no duplicates', async () => {
      const [a, b] = fx.ids(2) as [number, number];
      for (let id = 1; id <= 7; id++)
        await fx.store.messages.save(textMessage(fx, { from: id % 2 ? a : b, to: id % 2 ? b : a, id }), [
          a,
          b,
        ]);
      const seen: number[] = [];
      let after = 0;
      for (;;) {
        const page = await fx.store.messages.after(b, 1, a, { afterMsgId: after, limit: 3 });
        if (page.length === 0) break;
        seen.push(...page.map((m) => m.serverMsgId));
        after = page[page.length - 1]!.serverMsgId;
      }
      expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7]);
      expect(
        (await fx.store.messages.after(a, 1, b, { afterMsgId: 5, limit: 10 })).map((m) => m.serverMsgId),
      ).toEqual([6, 7]);
    });

    it('after - a save between pages lands on a later page, never skipped', async () => {
      const [a, b] = fx.ids(2) as [number, number];
      await fx.store.messages.save(textMessage(fx, { from: a, to: b, id: 1 }), [a, b]);
      await fx.store.messages.save(textMessage(fx, { from: a, to: b, id: 2 }), [a, b]);
      const first = await fx.store.messages.after(b, 1, a, { afterMsgId: 0, limit: 2 });
      await fx.store.messages.save(textMessage(fx, { from: b, to: a, id: 3 }), [a, b]);
      const next = await fx.store.messages.after(b, 1, a, { afterMsgId: first[1]!.serverMsgId, limit: 2 });
      expect([...first, ...next].map((m) => m.serverMsgId)).toEqual([1, 2, 3]);
    });

    it('after - sharded timelines: every owner reads its own view of a group', async () => {
      // Four consecutive ids spread over every shard (owners are sharded by id mod n).
      const [g, ...members] = fx.ids(5) as [number, ...number[]];
      for (let id = 1; id <= 3; id++)
        await fx.store.messages.save(textMessage(fx, { from: members[0]!, to: g, id, type: 2 }), members);
      for (const m of members)
        expect(
          (await fx.store.messages.after(m, 2, g, { afterMsgId: 1, limit: 10 })).map((x) => x.serverMsgId),
        ).toEqual([2, 3]);
    });

    it('after - refuses a zero limit and bad ids', async () => {
      const [a, b] = fx.ids(2) as [number, number];
      await expect(fx.store.messages.after(a, 1, b, { afterMsgId: 0, limit: 0 })).rejects.toBeInstanceOf(
        StoreInvalidArgumentError,
      );
      await expect(fx.store.messages.after(a, 1, b, { afterMsgId: -1, limit: 5 })).rejects.toBeInstanceOf(
        StoreInvalidArgumentError,
      );
      await expect(fx.store.messages.after(a, 3 as 1, b, { afterMsgId: 0, limit: 5 })).rejects.toBeInstanceOf(
        StoreInvalidArgumentError,
      );
    });

    it('positions - every session of the owner with its newest id, in key order', async () => {
      const [a, b, c, g] = fx.ids(4) as [number, number, number, number];
      await fx.store.messages.save(textMessage(fx, { from: b, to: a, id: 1 }), [a, b]);
      await fx.store.messages.save(textMessage(fx, { from: b, to: a, id: 2 }), [a, b]);
      await fx.store.messages.save(textMessage(fx, { from: a, to: c, id: 1 }), [a, c]);
      await fx.store.messages.save(textMessage(fx, { from: c, to: g, id: 9, type: 2 }), [a, c]);
      expect(await fx.store.sessions.positions(a)).toEqual([
        { sessionType: 1, sessionId: b, lastServerMsgId: 2, unreadCnt: 2 },
        { sessionType: 1, sessionId: c, lastServerMsgId: 1, unreadCnt: 0 },
        { sessionType: 2, sessionId: g, lastServerMsgId: 9, unreadCnt: 1 },
      ]);
      expect(await fx.store.sessions.positions(fx.ids(1)[0]!)).toEqual([]);
    });

    it('recall - every read of every owner shows the message recalled, body withheld', async () => {
      const [a, b] = fx.ids(2) as [number, number];
      const msg = textMessage(fx, { from: a, to: b, id: 1, text: 'oops' });
      await fx.store.messages.save(msg, [a, b]);
      await fx.store.messages.save(textMessage(fx, { from: a, to: b, id: 2, text: 'kept' }), [a, b]);
      const mark = await fx.store.messages.recall({ type: 1, a: b, b: a }, 1, {
        recalledBy: a,
        recalledAt: 1_700_000_100,
      });
      expect(mark).toEqual({ recalledBy: a, recalledAt: 1_700_000_100, inserted: true });

      for (const [owner, peer] of [
        [a, b],
        [b, a],
      ] as const) {
        const [recalled, kept] = await fx.store.messages.history(owner, 1, peer, { limit: 10 });
        expect(recalled).toMatchObject({
          serverMsgId: 1,
          clientMsgId: msg.clientMsgId,
          fromUserId: a,
          msgStatus: RECALLED_MSG_STATUS,
          recalled: { recalledBy: a, recalledAt: 1_700_000_100 },
        });
        expect(recalled!.msgData).toHaveLength(0);
        expect(Buffer.from(kept!.msgData).toString()).toBe('kept');
        expect(kept!.recalled).toBeUndefined();
        expect((await fx.store.messages.after(owner, 1, peer, { afterMsgId: 0, limit: 1 }))[0]).toEqual(
          recalled,
        );
        expect(await fx.store.messages.get(owner, 1, peer, 1)).toEqual(recalled);
        expect(await fx.store.messages.findByClientIds(owner, 1, peer, [msg.clientMsgId])).toEqual([
          recalled,
        ]);
      }
      expect(await fx.store.messages.get(a, 1, b, 3)).toBeNull();
    });

    it('recall - once: a retry or a second recaller keeps the first mark', async () => {
      const [owner, member, g] = fx.ids(3) as [number, number, number];
      await fx.store.messages.save(textMessage(fx, { from: member, to: g, id: 4, type: 2 }), [owner, member]);
      const conv = { type: 2 as const, groupId: g };
      await fx.store.messages.recall(conv, 4, { recalledBy: member, recalledAt: 100 });
      expect(await fx.store.messages.recall(conv, 4, { recalledBy: owner, recalledAt: 200 })).toEqual({
        recalledBy: member,
        recalledAt: 100,
        inserted: false,
      });
      expect((await fx.store.messages.latest(owner, 2, g))?.recalled).toEqual({
        recalledBy: member,
        recalledAt: 100,
      });
    });

    it('recall - marks only that conversation: the same id elsewhere is untouched', async () => {
      const [a, b, c] = fx.ids(3) as [number, number, number];
      await fx.store.messages.save(textMessage(fx, { from: a, to: b, id: 1 }), [a, b]);
      await fx.store.messages.save(textMessage(fx, { from: c, to: b, id: 1 }), [c, b]);
      await fx.store.messages.recall({ type: 1, a, b }, 1, { recalledBy: a, recalledAt: 5 });
      expect((await fx.store.messages.get(b, 1, a, 1))?.recalled).toBeDefined();
      expect((await fx.store.messages.get(b, 1, c, 1))?.recalled).toBeUndefined();
    });
  });
}
