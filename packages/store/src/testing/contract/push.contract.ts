import type { ContractFixture } from './fixture';

export function pushContract(fx: ContractFixture): void {
  describe('devices and mutes', () => {
    it('devices - register is an upsert per (user, platform, token); list and remove', async () => {
      const [u, v] = fx.ids(2) as [number, number];
      await fx.store.devices.register({ userId: u, platform: 'apns', token: 'aa11', clientType: 2 });
      await fx.store.devices.register({ userId: u, platform: 'fcm', token: 'bb22', clientType: 1 });
      fx.nowMs += 10_000;
      await fx.store.devices.register({ userId: u, platform: 'apns', token: 'aa11', clientType: 5 });
      await fx.store.devices.register({
        userId: v,
        platform: 'webhook',
        token: 'https://hook/x',
        clientType: 4,
      });
      const list = await fx.store.devices.list([v, u]);
      expect(list.map((d) => [d.userId, d.platform, d.token, d.clientType])).toEqual([
        [u, 'apns', 'aa11', 5],
        [u, 'fcm', 'bb22', 1],
        [v, 'webhook', 'https://hook/x', 4],
      ]);
      expect(list[0]!.updatedAt).toBe(Math.floor(fx.nowMs / 1000));
      expect(await fx.store.devices.remove(u, 'fcm', 'bb22')).toBe(true);
      expect(await fx.store.devices.remove(u, 'fcm', 'bb22')).toBe(false);
      expect(await fx.store.devices.list([u])).toHaveLength(1);
    });

    it('mutes - set is idempotent; mutedAmong answers for a group in one call', async () => {
      const [g, a, b, c] = fx.ids(4) as [number, number, number, number];
      await fx.store.mutes.set(a, 2, g, true);
      await fx.store.mutes.set(a, 2, g, true);
      await fx.store.mutes.set(c, 2, g, true);
      await fx.store.mutes.set(b, 1, a, true);
      expect(await fx.store.mutes.mutedAmong(2, g, [c, b, a])).toEqual([a, c]);
      expect(await fx.store.mutes.isMuted(b, 1, a)).toBe(true);
      expect(await fx.store.mutes.isMuted(a, 1, b)).toBe(false);
      await fx.store.mutes.set(a, 2, g, false);
      expect(await fx.store.mutes.mutedAmong(2, g, [a, b, c])).toEqual([c]);
    });
  });
}
