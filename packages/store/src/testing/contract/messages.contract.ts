import { MessageIdConflictError, StoreInvalidArgumentError } from '../../index';
import { textMessage, type ContractFixture } from './fixture';

export function messageContract(fx: ContractFixture): void {
  describe('messages', () => {
    it('save - single chat lands in the outbox and in both owners timelines', async () => {
      const [a, b] = fx.ids(2) as [number, number];
      const msg = textMessage(fx, { from: a, to: b, id: 1, text: 'hello' });
      await expect(fx.store.messages.save(msg, [a, b])).resolves.toBe('inserted');

      const sent = await fx.store.messages.findSent(a, msg.clientMsgId);
      expect(sent).toMatchObject({
        serverMsgId: 1,
        fromUserId: a,
        toSessionId: b,
        sessionType: 1,
        msgStatus: 5,
      });
      expect(Buffer.from(sent!.msgData).toString()).toBe('hello');
      const mine = await fx.store.messages.history(a, 1, b, { limit: 10 });
      const theirs = await fx.store.messages.history(b, 1, a, { limit: 10 });
      expect(mine).toEqual([sent]);
      expect(theirs).toEqual([sent]);
    });

    it('save - the same client_msg_id twice stores one message and answers duplicate', async () => {
      const [a, b] = fx.ids(2) as [number, number];
      const first = textMessage(fx, { from: a, to: b, id: 1 });
      await expect(fx.store.messages.save(first, [a, b])).resolves.toBe('inserted');
      // A retry after a lost ack may carry a fresh server id: it must still change nothing.
      const retry = { ...first, serverMsgId: 2, msgData: Buffer.from('other') };
      await expect(fx.store.messages.save(retry, [a, b])).resolves.toBe('duplicate');

      expect(await fx.store.messages.history(b, 1, a, { limit: 10 })).toHaveLength(1);
      expect((await fx.store.messages.findSent(a, first.clientMsgId))?.serverMsgId).toBe(1);
      expect(await fx.store.messages.maxServerMsgId({ type: 1, a, b })).toBe(1);
      expect((await fx.store.sessions.get(b, 1, a))?.unreadCnt).toBe(1);
    });

    it('save - concurrent retries of one message resolve to exactly one inserted', async () => {
      const [a, b] = fx.ids(2) as [number, number];
      const msg = textMessage(fx, { from: a, to: b, id: 1 });
      const results = await Promise.all(Array.from({ length: 8 }, () => fx.store.messages.save(msg, [a, b])));
      expect(results.filter((r) => r === 'inserted')).toHaveLength(1);
      expect(results.filter((r) => r === 'duplicate')).toHaveLength(7);
      expect(await fx.store.messages.history(a, 1, b, { limit: 10 })).toHaveLength(1);
      expect((await fx.store.sessions.get(b, 1, a))?.unreadCnt).toBe(1);
    });

    it('save - a client_msg_id is unique per sender across conversations', async () => {
      const [a, b, c] = fx.ids(3) as [number, number, number];
      const clientMsgId = fx.clientId();
      await fx.store.messages.save(textMessage(fx, { from: a, to: b, id: 1, clientMsgId }), [a, b]);
      await expect(
        fx.store.messages.save(textMessage(fx, { from: a, to: c, id: 1, clientMsgId }), [a, c]),
      ).resolves.toBe('duplicate');
      // Another sender may use the same client id.
      await expect(
        fx.store.messages.save(textMessage(fx, { from: c, to: b, id: 1, clientMsgId }), [c, b]),
      ).resolves.toBe('inserted');
      expect(await fx.store.messages.history(c, 1, a, { limit: 10 })).toEqual([]);
    });

    it('save - a reused server_msg_id rejects with MessageIdConflictError and stores nothing', async () => {
      const [a, b] = fx.ids(2) as [number, number];
      await fx.store.messages.save(textMessage(fx, { from: a, to: b, id: 1 }), [a, b]);
      const reused = textMessage(fx, { from: b, to: a, id: 1 });
      await expect(fx.store.messages.save(reused, [a, b])).rejects.toBeInstanceOf(MessageIdConflictError);
      expect(await fx.store.messages.findSent(b, reused.clientMsgId)).toBeNull();
      expect((await fx.store.sessions.get(a, 1, b))?.unreadCnt).toBe(0);
      // The client id was not burnt: a retry with a fresh server id goes through.
      await expect(fx.store.messages.save({ ...reused, serverMsgId: 2 }, [a, b])).resolves.toBe('inserted');
    });

    it('save - concurrent saves of different messages each get their own result', async () => {
      const [a, b, c] = fx.ids(3) as [number, number, number];
      const good = Array.from({ length: 50 }, (_, i) => textMessage(fx, { from: a, to: b, id: i + 1 }));
      await fx.store.messages.save(textMessage(fx, { from: a, to: c, id: 1 }), [a, c]);
      const conflicting = textMessage(fx, { from: c, to: a, id: 1 });
      const settled = await Promise.allSettled([
        ...good.map((m) => fx.store.messages.save(m, [a, b])),
        fx.store.messages.save(conflicting, [a, c]),
        fx.store.messages.save(good[0]!, [a, b]),
      ]);
      expect(settled.slice(1, 50).every((s) => s.status === 'fulfilled' && s.value === 'inserted')).toBe(
        true,
      );
      expect(settled[50]).toMatchObject({ status: 'rejected', reason: expect.any(MessageIdConflictError) });
      // good[0] was submitted twice; whichever commits first wins, the other is the duplicate.
      const twice = [settled[0], settled[51]].map((s) => (s?.status === 'fulfilled' ? s.value : 'error'));
      expect(twice.sort()).toEqual(['duplicate', 'inserted']);
      expect(await fx.store.messages.history(b, 1, a, { limit: 100 })).toHaveLength(50);
    });

    it('save - rejects what it cannot store faithfully, storing nothing', async () => {
      const [a, b, c] = fx.ids(3) as [number, number, number];
      const ok = textMessage(fx, { from: a, to: b, id: 1 });
      const cases: Array<[unknown, readonly number[]]> = [
        [ok, []],
        [ok, [a, c]],
        [{ ...ok, toSessionId: a }, [a]],
        [{ ...ok, clientMsgId: '' }, [a, b]],
        [{ ...ok, clientMsgId: 'é' }, [a, b]],
        [{ ...ok, clientMsgId: 'x'.repeat(65) }, [a, b]],
        [{ ...ok, serverMsgId: 2 ** 53 }, [a, b]],
        [{ ...ok, fromUserId: -1 }, [a, b]],
        [{ ...ok, sessionType: 3 }, [a, b]],
        [{ ...ok, msgType: 70_000 }, [a, b]],
        [{ ...ok, msgData: Buffer.alloc(70_000) }, [a, b]],
        [{ ...ok, createTime: 1.5 }, [a, b]],
      ];
      for (const [message, owners] of cases) {
        await expect(fx.store.messages.save(message as typeof ok, owners)).rejects.toBeInstanceOf(
          StoreInvalidArgumentError,
        );
      }
      expect(await fx.store.messages.history(a, 1, b, { limit: 10 })).toEqual([]);
    });

    it('history - paging from the newest is exact, gap-free and ascending', async () => {
      const [a, b] = fx.ids(2) as [number, number];
      for (let id = 1; id <= 23; id++) {
        const [from, to] = id % 3 === 0 ? [b, a] : [a, b];
        await fx.store.messages.save(textMessage(fx, { from, to, id }), [a, b]);
      }
      const seen: number[] = [];
      let before = 0;
      for (;;) {
        const page = await fx.store.messages.history(b, 1, a, { beforeMsgId: before, limit: 5 });
        if (page.length === 0) break;
        const ids = page.map((m) => m.serverMsgId);
        expect(ids).toEqual([...ids].sort((x, y) => x - y));
        expect(ids.every((id) => before === 0 || id < before)).toBe(true);
        seen.unshift(...ids);
        before = ids[0]!;
      }
      expect(seen).toEqual(Array.from({ length: 23 }, (_, i) => i + 1));
      const page = await fx.store.messages.history(a, 1, b, { beforeMsgId: 10, limit: 3 });
      expect(page.map((m) => m.serverMsgId)).toEqual([7, 8, 9]);
      expect(await fx.store.messages.history(a, 1, b, { beforeMsgId: 1, limit: 3 })).toEqual([]);
    });

    it('history - each owner sees a single chat under the peer id, with the original target', async () => {
      const [a, b] = fx.ids(2) as [number, number];
      await fx.store.messages.save(textMessage(fx, { from: a, to: b, id: 1 }), [a, b]);
      await fx.store.messages.save(textMessage(fx, { from: b, to: a, id: 2 }), [a, b]);
      const viewA = await fx.store.messages.history(a, 1, b, { limit: 10 });
      const viewB = await fx.store.messages.history(b, 1, a, { limit: 10 });
      const shape = (m: { fromUserId: number; toSessionId: number }) => [m.fromUserId, m.toSessionId];
      expect(viewA.map(shape)).toEqual([
        [a, b],
        [b, a],
      ]);
      expect(viewB.map(shape)).toEqual(viewA.map(shape));
      // Nothing under the owner's own id, nothing in a group session of the same number.
      expect(await fx.store.messages.history(a, 1, a, { limit: 10 })).toEqual([]);
      expect(await fx.store.messages.history(a, 2, b, { limit: 10 })).toEqual([]);
    });

    it('history - a sender left out of the owners has no copy', async () => {
      const [a, b] = fx.ids(2) as [number, number];
      await fx.store.messages.save(textMessage(fx, { from: a, to: b, id: 1 }), [b]);
      expect(await fx.store.messages.history(a, 1, b, { limit: 10 })).toEqual([]);
      expect(await fx.store.messages.history(b, 1, a, { limit: 10 })).toHaveLength(1);
    });

    it('findByClientIds - only that owner and session, ascending, unknown ids skipped', async () => {
      const [a, b, c] = fx.ids(3) as [number, number, number];
      const m1 = textMessage(fx, { from: a, to: b, id: 1 });
      const m2 = textMessage(fx, { from: b, to: a, id: 2 });
      const other = textMessage(fx, { from: a, to: c, id: 1 });
      for (const [m, owners] of [
        [m1, [a, b]],
        [m2, [a, b]],
        [other, [a, c]],
      ] as const) {
        await fx.store.messages.save(m, owners);
      }
      const found = await fx.store.messages.findByClientIds(a, 1, b, [
        m2.clientMsgId,
        'missing',
        m1.clientMsgId,
        other.clientMsgId,
      ]);
      expect(found.map((m) => m.clientMsgId)).toEqual([m1.clientMsgId, m2.clientMsgId]);
      expect(await fx.store.messages.findByClientIds(a, 1, b, [])).toEqual([]);
    });

    it('latest - the newest message of the owner session, or null', async () => {
      const [a, b] = fx.ids(2) as [number, number];
      expect(await fx.store.messages.latest(a, 1, b)).toBeNull();
      await fx.store.messages.save(textMessage(fx, { from: a, to: b, id: 2 }), [a, b]);
      await fx.store.messages.save(textMessage(fx, { from: b, to: a, id: 1 }), [a, b]);
      expect((await fx.store.messages.latest(b, 1, a))?.serverMsgId).toBe(2);
    });

    it('maxServerMsgId - highest persisted id per conversation, 0 when none', async () => {
      const [a, b, c, g] = fx.ids(4) as [number, number, number, number];
      expect(await fx.store.messages.maxServerMsgId({ type: 1, a, b })).toBe(0);
      await fx.store.messages.save(textMessage(fx, { from: a, to: b, id: 7 }), [a, b]);
      await fx.store.messages.save(textMessage(fx, { from: b, to: a, id: 5 }), [a, b]);
      await fx.store.messages.save(textMessage(fx, { from: a, to: c, id: 9 }), [a, c]);
      await fx.store.messages.save(textMessage(fx, { from: a, to: g, id: 3, type: 2 }), [a, b, c]);
      expect(await fx.store.messages.maxServerMsgId({ type: 1, a, b })).toBe(7);
      expect(await fx.store.messages.maxServerMsgId({ type: 1, a: b, b: a })).toBe(7);
      expect(await fx.store.messages.maxServerMsgId({ type: 1, a: c, b: a })).toBe(9);
      expect(await fx.store.messages.maxServerMsgId({ type: 2, groupId: g })).toBe(3);
      expect(await fx.store.messages.maxServerMsgId({ type: 2, groupId: a })).toBe(0);
    });

    it('save - group message: one timeline row and session per member, sender not unread', async () => {
      const [g, ...members] = fx.ids(5) as [number, ...number[]];
      const sender = members[1]!;
      await fx.store.messages.save(textMessage(fx, { from: sender, to: g, id: 1, type: 2 }), members);
      for (const m of members) {
        const history = await fx.store.messages.history(m, 2, g, { limit: 10 });
        expect(history).toHaveLength(1);
        expect(history[0]).toMatchObject({ fromUserId: sender, toSessionId: g, sessionType: 2 });
        expect((await fx.store.sessions.get(m, 2, g))?.unreadCnt).toBe(m === sender ? 0 : 1);
      }
    });

    it('save - a 5,000-member group message is one call', async () => {
      const [g, ...members] = fx.ids(5001) as [number, ...number[]];
      const sender = members[4321]!;
      const started = Date.now();
      await expect(
        fx.store.messages.save(textMessage(fx, { from: sender, to: g, id: 1, type: 2 }), members),
      ).resolves.toBe('inserted');
      const elapsed = Date.now() - started;
      // Generous bound: this is a regression guard against per-owner round trips, not a benchmark.
      expect(elapsed).toBeLessThan(10_000);
      for (const m of [members[0]!, sender, members[4999]!]) {
        expect(await fx.store.messages.history(m, 2, g, { limit: 5 })).toHaveLength(1);
        expect((await fx.store.sessions.get(m, 2, g))?.unreadCnt).toBe(m === sender ? 0 : 1);
      }
      const again = textMessage(fx, { from: sender, to: g, id: 2, type: 2 });
      await fx.store.messages.save(again, members);
      expect((await fx.store.sessions.get(members[17]!, 2, g))?.unreadCnt).toBe(2);
      expect(await fx.store.messages.maxServerMsgId({ type: 2, groupId: g })).toBe(2);
    });
  });
}
