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

    it('bots - a webhook that is not an http(s) URL of printable ASCII is refused', async () => {
      const [a] = fx.ids(1) as [number];
      for (const bad of ['ftp://x/y', 'https://bad host/', `https://${'x'.repeat(600)}`, ''])
        await expect(fx.store.bots.set(a, bad)).rejects.toMatchObject({ code: 'IM_ERR_INVALID_ARGUMENT' });
      await expect(fx.store.bots.list(0, 0)).rejects.toMatchObject({ code: 'IM_ERR_INVALID_ARGUMENT' });
      expect(await fx.store.bots.get(a)).toBeNull();
    });
  });
}
