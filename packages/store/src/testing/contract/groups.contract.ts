import { textMessage, type ContractFixture } from './fixture';

export function groupContract(fx: ContractFixture): void {
  describe('groups', () => {
    it('create - owner plus members, version 1, active', async () => {
      const [owner, m1, m2] = fx.ids(3) as [number, number, number];
      const group = await fx.store.groups.create({ name: 'team', ownerUserId: owner, intro: 'hi' }, [
        m2,
        m1,
        m1,
      ]);
      expect(group).toMatchObject({
        name: 'team',
        ownerUserId: owner,
        groupType: 1,
        joinModel: 0,
        intro: 'hi',
        version: 1,
        status: 'active',
        createdAt: Math.floor(fx.nowMs / 1000),
      });
      expect(await fx.store.groups.members(group.groupId)).toEqual([owner, m1, m2]);
      expect(await fx.store.groups.get(group.groupId)).toEqual(group);
      expect(await fx.store.groups.isMember(group.groupId, m1)).toBe(true);
      expect(await fx.store.groups.isMember(group.groupId, fx.ids(1)[0]!)).toBe(false);
    });

    it('addMembers / removeMembers - idempotent, return what changed, bump the version once per change', async () => {
      const [owner, a, b, c] = fx.ids(4) as [number, number, number, number];
      const { groupId } = await fx.store.groups.create({ name: 'g', ownerUserId: owner }, [a]);
      expect(await fx.store.groups.addMembers(groupId, [c, a, b])).toEqual([b, c]);
      expect((await fx.store.groups.get(groupId))?.version).toBe(2);
      expect(await fx.store.groups.addMembers(groupId, [a, b])).toEqual([]);
      expect((await fx.store.groups.get(groupId))?.version).toBe(2);
      expect(await fx.store.groups.removeMembers(groupId, [b, fx.ids(1)[0]!])).toEqual([b]);
      expect(await fx.store.groups.members(groupId)).toEqual([owner, a, c]);
      expect(await fx.store.groups.removeMembers(groupId, [b])).toEqual([]);
      expect((await fx.store.groups.get(groupId))?.version).toBe(3);
      expect(await fx.store.groups.addMembers(2 ** 40, [a])).toEqual([]);
    });

    it('addMembers - thousands at once', async () => {
      const [owner] = fx.ids(1) as [number];
      const many = fx.ids(5000);
      const { groupId } = await fx.store.groups.create({ name: 'big', ownerUserId: owner }, []);
      expect(await fx.store.groups.addMembers(groupId, many)).toHaveLength(5000);
      expect(await fx.store.groups.members(groupId)).toHaveLength(5001);
    });

    it('listForUser / getMany - active groups of a member; disband hides and bumps version', async () => {
      const [owner, m] = fx.ids(2) as [number, number];
      const g1 = await fx.store.groups.create({ name: 'one', ownerUserId: owner }, [m]);
      const g2 = await fx.store.groups.create({ name: 'two', ownerUserId: owner }, []);
      const g3 = await fx.store.groups.create({ name: 'three', ownerUserId: m }, []);
      expect((await fx.store.groups.listForUser(m)).map((g) => g.groupId)).toEqual([g1.groupId, g3.groupId]);
      expect(await fx.store.groups.disband(g1.groupId)).toBe(true);
      expect(await fx.store.groups.disband(g1.groupId)).toBe(false);
      expect((await fx.store.groups.listForUser(m)).map((g) => g.groupId)).toEqual([g3.groupId]);
      const many = await fx.store.groups.getMany([g3.groupId, g1.groupId, g2.groupId, 2 ** 40]);
      expect(many.map((g) => [g.groupId, g.status, g.version])).toEqual([
        [g1.groupId, 'disbanded', 2],
        [g2.groupId, 'active', 1],
        [g3.groupId, 'active', 1],
      ]);
      // Members are kept for history.
      expect(await fx.store.groups.members(g1.groupId)).toEqual([owner, m]);
    });

    it('update - changes info and bumps the version', async () => {
      const [owner] = fx.ids(1) as [number];
      const group = await fx.store.groups.create({ name: 'before', ownerUserId: owner }, []);
      const updated = await fx.store.groups.update(group.groupId, {
        name: 'after',
        announcement: 'news',
        muteModel: 1,
      });
      expect(updated).toMatchObject({ name: 'after', announcement: 'news', muteModel: 1, version: 2 });
      expect(await fx.store.groups.update(group.groupId, {})).toMatchObject({ version: 2 });
      // A patch of what is already so (a retried rename or mute-all) changes nothing.
      expect(await fx.store.groups.update(group.groupId, { name: 'after', muteModel: 1 })).toMatchObject({
        name: 'after',
        version: 2,
      });
      expect(await fx.store.groups.update(group.groupId, { name: 'after', muteModel: 0 })).toMatchObject({
        muteModel: 0,
        version: 3,
      });
      expect(await fx.store.groups.update(2 ** 40, { name: 'x' })).toBeNull();
      expect(await fx.store.groups.get(2 ** 40)).toBeNull();
    });

    it('setAdmin / setMuted - members only, idempotent, bump the version once per change', async () => {
      const [owner, a, b, stranger] = fx.ids(4) as [number, number, number, number];
      const { groupId } = await fx.store.groups.create({ name: 'roles', ownerUserId: owner }, [a, b]);
      expect(await fx.store.groups.memberStates(groupId)).toEqual([
        { userId: owner, admin: false, muted: false },
        { userId: a, admin: false, muted: false },
        { userId: b, admin: false, muted: false },
      ]);
      expect(await fx.store.groups.setAdmin(groupId, a, true)).toBe(true);
      expect(await fx.store.groups.setAdmin(groupId, a, true)).toBe(false);
      expect(await fx.store.groups.setMuted(groupId, b, true)).toBe(true);
      expect(await fx.store.groups.setMuted(groupId, b, true)).toBe(false);
      expect(await fx.store.groups.setAdmin(groupId, stranger, true)).toBe(false);
      expect(await fx.store.groups.setMuted(groupId, stranger, true)).toBe(false);
      expect(await fx.store.groups.setMuted(2 ** 40, a, true)).toBe(false);
      expect((await fx.store.groups.get(groupId))?.version).toBe(3);
      expect(await fx.store.groups.memberStates(groupId)).toEqual([
        { userId: owner, admin: false, muted: false },
        { userId: a, admin: true, muted: false },
        { userId: b, admin: false, muted: true },
      ]);
      expect(await fx.store.groups.members(groupId)).toEqual([owner, a, b]);
      // Leaving ends the role but not the mute: a muted member cannot shed it by leaving and
      // being invited again (ADR 0015).
      await fx.store.groups.removeMembers(groupId, [a, b]);
      expect(await fx.store.groups.memberStates(groupId)).toEqual([
        { userId: owner, admin: false, muted: false },
      ]);
      expect(await fx.store.groups.setMuted(groupId, b, false)).toBe(false);
      await fx.store.groups.addMembers(groupId, [a, b]);
      expect(await fx.store.groups.memberStates(groupId)).toEqual([
        { userId: owner, admin: false, muted: false },
        { userId: a, admin: false, muted: false },
        { userId: b, admin: false, muted: true },
      ]);
      expect(await fx.store.groups.setAdmin(groupId, a, false)).toBe(false);
      expect(await fx.store.groups.setMuted(groupId, b, false)).toBe(true);
      expect((await fx.store.groups.memberStates(groupId))[2]).toEqual({
        userId: b,
        admin: false,
        muted: false,
      });
    });

    it('transferOwner - to a member only, ends its role and mute, once', async () => {
      const [owner, a, stranger] = fx.ids(3) as [number, number, number];
      const { groupId } = await fx.store.groups.create({ name: 'hand-over', ownerUserId: owner }, [a]);
      await fx.store.groups.setAdmin(groupId, a, true);
      await fx.store.groups.setMuted(groupId, a, true);
      expect(await fx.store.groups.transferOwner(groupId, stranger)).toBe(false);
      expect(await fx.store.groups.transferOwner(2 ** 40, a)).toBe(false);
      expect(await fx.store.groups.transferOwner(groupId, a)).toBe(true);
      expect(await fx.store.groups.transferOwner(groupId, a)).toBe(false);
      expect(await fx.store.groups.get(groupId)).toMatchObject({ ownerUserId: a, version: 4 });
      expect(await fx.store.groups.memberStates(groupId)).toEqual([
        { userId: owner, admin: false, muted: false },
        { userId: a, admin: false, muted: false },
      ]);
      // A plain member (no role, no mute) can take it too.
      expect(await fx.store.groups.transferOwner(groupId, owner)).toBe(true);
      expect((await fx.store.groups.get(groupId))?.ownerUserId).toBe(owner);
    });

    it('readers - counts current members but the sender by their read marks; lists up to a bound', async () => {
      const [owner, a, b, c] = fx.ids(4) as [number, number, number, number];
      const { groupId } = await fx.store.groups.create({ name: 'receipts', ownerUserId: owner }, [a, b, c]);
      const members = [owner, a, b, c];
      await fx.store.messages.save(textMessage(fx, { from: owner, to: groupId, id: 1, type: 2 }), members);
      await fx.store.messages.save(textMessage(fx, { from: a, to: groupId, id: 2, type: 2 }), members);
      await fx.store.messages.save(textMessage(fx, { from: owner, to: groupId, id: 3, type: 2 }), members);
      await fx.store.sessions.markRead(a, 2, groupId, 3);
      await fx.store.sessions.markRead(b, 2, groupId, 1);
      // Members joined at the store's clock (fx.nowMs); the messages were sent after that.
      const sent = Math.floor(fx.nowMs / 1000) + 10;
      const msgs = [
        { serverMsgId: 1, fromUserId: owner, createTime: sent },
        { serverMsgId: 2, fromUserId: a, createTime: sent },
        { serverMsgId: 3, fromUserId: owner, createTime: sent },
      ];
      expect(await fx.store.groups.readers(groupId, msgs, 10)).toEqual([
        { readCount: 2, otherMembers: 3, readerIds: [a, b] },
        { readCount: 0, otherMembers: 3, readerIds: [] },
        { readCount: 1, otherMembers: 3, readerIds: [a] },
      ]);
      expect((await fx.store.groups.readers(groupId, msgs.slice(0, 1), 1))[0]).toEqual({
        readCount: 2,
        otherMembers: 3,
        readerIds: [],
      });
      // A member who left no longer counts.
      await fx.store.groups.removeMembers(groupId, [b]);
      expect((await fx.store.groups.readers(groupId, msgs.slice(0, 1), 10))[0]).toEqual({
        readCount: 1,
        otherMembers: 2,
        readerIds: [a],
      });
      expect(await fx.store.groups.readers(groupId, [], 10)).toEqual([]);
    });

    it('readers - a member who joined after the message is neither a reader nor unread', async () => {
      const [owner, a, late] = fx.ids(3) as [number, number, number];
      const joined = Math.floor(fx.nowMs / 1000);
      const { groupId } = await fx.store.groups.create({ name: 'late joiner', ownerUserId: owner }, [a]);
      const before = { serverMsgId: 1, fromUserId: owner, createTime: joined };
      await fx.store.messages.save(
        textMessage(fx, { from: owner, to: groupId, id: 1, type: 2, createTime: joined }),
        [owner, a],
      );
      const savedNow = fx.nowMs;
      fx.nowMs += 60_000;
      try {
        await fx.store.groups.addMembers(groupId, [late]);
      } finally {
        fx.nowMs = savedNow;
      }
      // The late member reads the whole group (its mark passes the old message).
      await fx.store.sessions.markRead(late, 2, groupId, 1);
      expect(await fx.store.groups.readers(groupId, [before], 10)).toEqual([
        { readCount: 0, otherMembers: 1, readerIds: [] },
      ]);
      const after = { serverMsgId: 2, fromUserId: owner, createTime: joined + 120 };
      await fx.store.messages.save(
        textMessage(fx, { from: owner, to: groupId, id: 2, type: 2, createTime: after.createTime }),
        [owner, a, late],
      );
      await fx.store.sessions.markRead(late, 2, groupId, 2);
      expect(await fx.store.groups.readers(groupId, [after], 10)).toEqual([
        { readCount: 1, otherMembers: 2, readerIds: [late] },
      ]);
    });
  });
}
