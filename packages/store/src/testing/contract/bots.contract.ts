import type { ContractFixture } from './fixture';

export function botContract(fx: ContractFixture): void {
  describe('bots', () => {
    it('bots - set is an upsert per user; get, list after an id, remove', async () => {
      const [a, b] = fx.ids(2) as [number, number];
      expect(await fx.store.bots.get(a)).toBeNull();
      const first = await fx.store.bots.set(a, 'https://bots.example/a');
      expect(first).toEqual({
        userId: a,
        webhookUrl: 'https://bots.example/a',
        hasOwnSecret: false,
        createdAt: Math.floor(fx.nowMs / 1000),
        updatedAt: Math.floor(fx.nowMs / 1000),
      });
      fx.nowMs += 5_000;
      const moved = await fx.store.bots.set(a, 'http://127.0.0.1:9/a2');
      expect(moved).toMatchObject({ webhookUrl: 'http://127.0.0.1:9/a2', createdAt: first.createdAt });
      expect(moved.updatedAt).toBe(first.updatedAt + 5);
      await fx.store.bots.set(b, 'https://bots.example/b');
      expect((await fx.store.bots.list(a - 1, 10)).map((r) => r.userId)).toEqual([a, b]);
      expect((await fx.store.bots.list(a, 10)).map((r) => r.userId)).toEqual([b]);
      expect((await fx.store.bots.among([b, b + 1000, a])).map((r) => [r.userId, r.webhookUrl])).toEqual([
        [a, 'http://127.0.0.1:9/a2'],
        [b, 'https://bots.example/b'],
      ]);
      expect(await fx.store.bots.among([])).toEqual([]);
      expect(await fx.store.bots.remove(a)).toBe(true);
      expect(await fx.store.bots.remove(a)).toBe(false);
      expect(await fx.store.bots.get(a)).toBeNull();
    });

    it('bots - a secret is stored when the bot is created, kept when its URL changes, replaced by a rotation', async () => {
      const [a, b, old] = fx.ids(3) as [number, number, number];
      const created = await fx.store.bots.set(a, 'https://bots.example/a', 'secret-of-a-0123456789');
      expect(created.hasOwnSecret).toBe(true);
      // A second set (a concurrent create, a new URL) does not replace the secret.
      await fx.store.bots.set(a, 'https://bots.example/a2', 'another-secret-0123456789');
      await fx.store.bots.set(b, 'https://bots.example/b', 'secret-of-b-0123456789');
      await fx.store.bots.set(old, 'https://bots.example/old');
      expect(await fx.store.bots.webhooksAmong([old, a, b, b + 1000])).toEqual(
        [
          { userId: a, webhookUrl: 'https://bots.example/a2', secret: 'secret-of-a-0123456789' },
          { userId: b, webhookUrl: 'https://bots.example/b', secret: 'secret-of-b-0123456789' },
          { userId: old, webhookUrl: 'https://bots.example/old', secret: null },
        ].sort((x, y) => x.userId - y.userId),
      );
      expect(await fx.store.bots.rotateSecret(old, 'rotated-secret-0123456789')).toBe(true);
      expect(await fx.store.bots.get(old)).toMatchObject({ hasOwnSecret: true });
      expect((await fx.store.bots.webhooksAmong([old]))[0]!.secret).toBe('rotated-secret-0123456789');
      expect(await fx.store.bots.rotateSecret(old + 1000, 'rotated-secret-0123456789')).toBe(false);
      await expect(fx.store.bots.rotateSecret(a, 'short')).rejects.toMatchObject({
        code: 'IM_ERR_INVALID_ARGUMENT',
      });
      await expect(
        fx.store.bots.set(b + 1000, 'https://x.example/', 'bad secret with spaces'),
      ).rejects.toMatchObject({
        code: 'IM_ERR_INVALID_ARGUMENT',
      });
    });

    it('bots - inGroups lists the bots that are members of each group, not former members nor other users', async () => {
      const [owner, botA, botB, human] = fx.ids(4) as [number, number, number, number];
      await fx.store.bots.set(botA, 'https://bots.example/a', 'secret-of-a-0123456789');
      await fx.store.bots.set(botB, 'https://bots.example/b');
      const g1 = await fx.store.groups.create({ name: 'g1', ownerUserId: owner }, [botA, botB, human]);
      const g2 = await fx.store.groups.create({ name: 'g2', ownerUserId: owner }, [botB, human]);
      const g3 = await fx.store.groups.create({ name: 'g3', ownerUserId: owner }, [human]);
      const joinedAt = expect.any(Number) as unknown as number;
      expect(await fx.store.bots.inGroups([g3.groupId, g2.groupId, g1.groupId])).toEqual([
        {
          groupId: g1.groupId,
          joinedAt,
          userId: botA,
          webhookUrl: 'https://bots.example/a',
          secret: 'secret-of-a-0123456789',
        },
        { groupId: g1.groupId, joinedAt, userId: botB, webhookUrl: 'https://bots.example/b', secret: null },
        { groupId: g2.groupId, joinedAt, userId: botB, webhookUrl: 'https://bots.example/b', secret: null },
      ]);
      await fx.store.groups.removeMembers(g1.groupId, [botA]);
      expect((await fx.store.bots.inGroups([g1.groupId])).map((r) => r.userId)).toEqual([botB]);
      expect(await fx.store.bots.inGroups([])).toEqual([]);
    });

    it('bots - a webhook that is not an http(s) URL of printable ASCII is refused', async () => {
      const [a] = fx.ids(1) as [number];
      for (const bad of ['ftp://x/y', 'https://bad host/', `https://${'x'.repeat(600)}`, ''])
        await expect(fx.store.bots.set(a, bad)).rejects.toMatchObject({ code: 'IM_ERR_INVALID_ARGUMENT' });
      await expect(fx.store.bots.list(0, 0)).rejects.toMatchObject({ code: 'IM_ERR_INVALID_ARGUMENT' });
      expect(await fx.store.bots.get(a)).toBeNull();
    });
  });
}
