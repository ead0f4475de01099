import type { InstanceInfo } from '../cache.port';
import { sleep, type FixtureRef } from './cache.contract';

function instance(role: string, id: string, extra: Partial<InstanceInfo> = {}): InstanceInfo {
  return { role, id, pid: 4242, host: 'host-1', startedAt: 1_700_000_000_000, version: '0.1.0', ...extra };
}

export function describePresenceContract(fixture: FixtureRef): void {
  describe('presence', () => {
    it('presence - a beat is listed with what it said, sorted by role then id', async () => {
      const { presence } = fixture().cache;
      expect(await presence.list()).toEqual([]);
      const before = Date.now();
      await presence.beat(
        instance('gate', 'gate-10', { address: 'tcp://h:1 ws://h:2', connections: 3, users: 2 }),
        10_000,
      );
      await presence.beat(instance('gate', 'gate-2'), 10_000);
      await presence.beat(instance('logic', 'l-1', { pid: 7 }), 10_000);
      const live = await presence.list();
      expect(live.map((i) => `${i.role}/${i.id}`)).toEqual(['gate/gate-2', 'gate/gate-10', 'logic/l-1']);
      expect(live[1]).toMatchObject({
        ...instance('gate', 'gate-10', { address: 'tcp://h:1 ws://h:2', connections: 3, users: 2 }),
      });
      expect(live[1]!.beatAt).toBeGreaterThanOrEqual(before);
      expect(live[1]!.expiresAt).toBe(live[1]!.beatAt + 10_000);
      expect(live[2]!.pid).toBe(7);
    });

    it('presence - a record whose beats stop disappears after its TTL; a later beat replaces it', async () => {
      const { presence } = fixture().cache;
      await presence.beat(instance('gate', 'dying'), 150);
      await presence.beat(instance('gate', 'alive', { connections: 1 }), 10_000);
      await sleep(300);
      expect((await presence.list()).map((i) => i.id)).toEqual(['alive']);
      await presence.beat(instance('gate', 'alive', { connections: 5 }), 10_000);
      expect((await presence.list()).map((i) => i.connections)).toEqual([5]);
    });

    it('presence - beat says whether no live record was there (first beat, or after expiry)', async () => {
      const { presence } = fixture().cache;
      expect(await presence.beat(instance('gate', 'g'), 150)).toBe(true);
      expect(await presence.beat(instance('gate', 'g'), 150)).toBe(false);
      // Same id, another role: its own record.
      expect(await presence.beat(instance('job', 'g'), 10_000)).toBe(true);
      await sleep(300);
      expect(await presence.beat(instance('gate', 'g'), 10_000)).toBe(true);
      expect(await presence.beat(instance('gate', 'g'), 10_000)).toBe(false);
    });

    it('presence - leave removes the record at once and ignores unknown ones', async () => {
      const { presence } = fixture().cache;
      await presence.beat(instance('gate', 'g1'), 10_000);
      await presence.beat(instance('gate', 'g2'), 10_000);
      await presence.leave('gate', 'g1');
      await presence.leave('gate', 'nope');
      expect((await presence.list()).map((i) => i.id)).toEqual(['g2']);
      expect(await presence.beat(instance('gate', 'g1'), 10_000)).toBe(true);
    });

    it('presence - data loss forgets every record until the next beats', async () => {
      const fx = fixture();
      await fx.cache.presence.beat(instance('gate', 'g1'), 10_000);
      await fx.wipe();
      expect(await fx.cache.presence.list()).toEqual([]);
      expect(await fx.cache.presence.beat(instance('gate', 'g1'), 10_000)).toBe(true);
      expect(await fx.cache.presence.list()).toHaveLength(1);
    });

    it('presence - invalid records are rejected with InvalidCacheArgumentError', async () => {
      const { presence } = fixture().cache;
      const invalid = { code: 'IM_ERR_CACHE_INVALID_ARGUMENT' };
      await expect(presence.beat(instance('gate', 'a|b'), 1000)).rejects.toMatchObject(invalid);
      await expect(presence.beat(instance('', 'a'), 1000)).rejects.toMatchObject(invalid);
      await expect(presence.beat(instance('gate', 'a', { pid: -1 }), 1000)).rejects.toMatchObject(invalid);
      await expect(presence.beat(instance('gate', 'a'), 0)).rejects.toMatchObject(invalid);
      expect(await presence.list()).toEqual([]);
    });
  });
}
