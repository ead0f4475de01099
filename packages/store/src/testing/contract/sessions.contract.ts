import { textMessage, type ContractFixture } from './fixture';

export function sessionContract(fx: ContractFixture): void {
  describe('sessions', () => {
    it('recent - newest first, each with its last message and unread count', async () => {
      const [me, p1, p2, g] = fx.ids(4) as [number, number, number, number];
      await fx.store.messages.save(textMessage(fx, { from: p1, to: me, id: 1, createTime: 100 }), [me, p1]);
      await fx.store.messages.save(textMessage(fx, { from: p1, to: me, id: 2, createTime: 101 }), [me, p1]);
      await fx.store.messages.save(textMessage(fx, { from: p2, to: g, id: 1, type: 2, createTime: 103 }), [
        me,
        p2,
      ]);
      await fx.store.messages.save(textMessage(fx, { from: me, to: p2, id: 1, createTime: 102 }), [me, p2]);

      const sessions = await fx.store.sessions.recent(me);
      expect(
        sessions.map((s) => [s.sessionType, s.sessionId, s.unreadCnt, s.lastMessage.serverMsgId]),
      ).toEqual([
        [2, g, 1, 1],
        [1, p2, 0, 1],
        [1, p1, 2, 2],
      ]);
      expect(sessions[2]!.lastMessage).toMatchObject({ fromUserId: p1, toSessionId: me, createTime: 101 });
      expect(Buffer.from(sessions[2]!.lastMessage.msgData).toString()).toBe('message 2');
      expect(sessions.every((s) => s.ownerUserId === me && s.status === 1)).toBe(true);
      expect(await fx.store.sessions.recent(me, { limit: 1 })).toHaveLength(1);
      expect(await fx.store.sessions.recent(fx.ids(1)[0]!)).toEqual([]);
    });

    it('existing - tells, per key and in order, whether the owner has that session', async () => {
      const [a, b, c, g] = fx.ids(4) as [number, number, number, number];
      await fx.store.messages.save(textMessage(fx, { from: a, to: b, id: 1 }), [a, b]);
      await fx.store.messages.save(textMessage(fx, { from: b, to: g, id: 1, type: 2 }), [a, b]);
      expect(
        await fx.store.sessions.existing([
          { ownerUserId: b, sessionType: 1, sessionId: a },
          { ownerUserId: c, sessionType: 1, sessionId: a },
          { ownerUserId: a, sessionType: 1, sessionId: b },
          { ownerUserId: a, sessionType: 2, sessionId: g },
          { ownerUserId: c, sessionType: 2, sessionId: g },
          { ownerUserId: a, sessionType: 2, sessionId: b },
        ]),
      ).toEqual([true, false, true, true, false, false]);
      expect(await fx.store.sessions.existing([])).toEqual([]);
      // More keys than one statement takes.
      const many = Array.from({ length: 450 }, (_, i) => ({
        ownerUserId: a,
        sessionType: 1 as const,
        sessionId: i === 449 ? b : 2 ** 40 + i,
      }));
      const answers = await fx.store.sessions.existing(many);
      expect(answers.filter(Boolean)).toHaveLength(1);
      expect(answers[449]).toBe(true);
    });

    it('recent - updatedSince returns only sessions changed at or after that second', async () => {
      const [me, p1, p2] = fx.ids(3) as [number, number, number];
      await fx.store.messages.save(textMessage(fx, { from: p1, to: me, id: 1, createTime: 1000 }), [me, p1]);
      await fx.store.messages.save(textMessage(fx, { from: p2, to: me, id: 1, createTime: 2000 }), [me, p2]);
      const changed = await fx.store.sessions.recent(me, { updatedSince: 2000 });
      expect(changed.map((s) => s.sessionId)).toEqual([p2]);
    });

    it('save - an out-of-order save keeps the newest message as the last one', async () => {
      const [a, b] = fx.ids(2) as [number, number];
      await fx.store.messages.save(textMessage(fx, { from: a, to: b, id: 5, createTime: 50 }), [a, b]);
      await fx.store.messages.save(textMessage(fx, { from: a, to: b, id: 4, createTime: 40 }), [a, b]);
      const session = await fx.store.sessions.get(b, 1, a);
      expect(session?.lastMessage.serverMsgId).toBe(5);
      expect(session?.lastMessage.createTime).toBe(50);
      expect(session?.updatedTime).toBe(50);
      expect(session?.unreadCnt).toBe(2);
    });

    it('markRead - 0 reads everything; an id counts only newer messages from others', async () => {
      const [me, peer] = fx.ids(2) as [number, number];
      for (let id = 1; id <= 6; id++) {
        const [from, to] = id === 5 ? [me, peer] : [peer, me];
        await fx.store.messages.save(textMessage(fx, { from, to, id }), [me, peer]);
      }
      expect((await fx.store.sessions.get(me, 1, peer))?.unreadCnt).toBe(5);

      await fx.store.sessions.markRead(me, 1, peer, 3);
      let session = await fx.store.sessions.get(me, 1, peer);
      // 4 and 6 are unread; 5 is my own.
      expect(session).toMatchObject({ unreadCnt: 2, readUpTo: 3 });

      await fx.store.sessions.markRead(me, 1, peer, 0);
      session = await fx.store.sessions.get(me, 1, peer);
      expect(session).toMatchObject({ unreadCnt: 0, readUpTo: 6 });
      // The peer's own view is untouched.
      expect((await fx.store.sessions.get(peer, 1, me))?.unreadCnt).toBe(1);

      await fx.store.messages.save(textMessage(fx, { from: peer, to: me, id: 7 }), [me, peer]);
      expect((await fx.store.sessions.get(me, 1, peer))?.unreadCnt).toBe(1);
    });

    it('markRead - never moves backwards nor past the newest message; records the read time', async () => {
      const [me, peer] = fx.ids(2) as [number, number];
      for (let id = 1; id <= 4; id++) {
        await fx.store.messages.save(textMessage(fx, { from: peer, to: me, id }), [me, peer]);
      }
      fx.nowMs = 1_800_000_000_000;
      // The returned mark is what the row now holds (the event stream reports it).
      await expect(fx.store.sessions.markRead(me, 1, peer, 3)).resolves.toBe(3);
      await expect(fx.store.sessions.markRead(me, 1, peer, 1)).resolves.toBe(3);
      expect(await fx.store.sessions.get(me, 1, peer)).toMatchObject({
        unreadCnt: 1,
        readUpTo: 3,
        updatedTime: 1_800_000_000,
      });
      expect(await fx.store.receipts.get(me, 1, peer)).toMatchObject({
        readMsgId: 3,
        readAtMs: 1_800_000_000_000,
      });

      // A bogus id far in the future must not hide messages that arrive later.
      await expect(fx.store.sessions.markRead(me, 1, peer, 1_000_000)).resolves.toBe(4);
      expect((await fx.store.sessions.get(me, 1, peer))?.readUpTo).toBe(4);
      await fx.store.messages.save(textMessage(fx, { from: peer, to: me, id: 5 }), [me, peer]);
      expect((await fx.store.sessions.get(me, 1, peer))?.unreadCnt).toBe(1);
    });

    it('markRead - a session without messages is left alone', async () => {
      const [me, peer] = fx.ids(2) as [number, number];
      await expect(fx.store.sessions.markRead(me, 1, peer, 0)).resolves.toBeUndefined();
      expect(await fx.store.sessions.get(me, 1, peer)).toBeNull();
    });

    it('markRead - group read counts other members messages only', async () => {
      const [g, me, x, y] = fx.ids(4) as [number, number, number, number];
      const members = [me, x, y];
      await fx.store.messages.save(textMessage(fx, { from: x, to: g, id: 1, type: 2 }), members);
      await fx.store.messages.save(textMessage(fx, { from: me, to: g, id: 2, type: 2 }), members);
      await fx.store.messages.save(textMessage(fx, { from: y, to: g, id: 3, type: 2 }), members);
      await fx.store.sessions.markRead(me, 2, g, 1);
      expect((await fx.store.sessions.get(me, 2, g))?.unreadCnt).toBe(1);
      expect((await fx.store.sessions.get(x, 2, g))?.unreadCnt).toBe(2);
    });
  });
}
