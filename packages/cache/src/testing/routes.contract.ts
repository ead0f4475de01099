import type { Route } from '../cache.port';
import { sleep, type FixtureRef } from './cache.contract';

const TTL = 60_000;

function route(
  userId: number,
  gateId: string,
  connId: string,
  clientType = 1,
  loginAt = 1_700_000_000_000,
): Route {
  return { userId, gateId, connId, clientType, loginAt };
}

function sorted(routes: readonly Route[] | undefined): Route[] {
  return [...(routes ?? [])].sort((a, b) =>
    `${a.gateId}|${a.connId}`.localeCompare(`${b.gateId}|${b.connId}`),
  );
}

export function describeRouteContract(fixture: FixtureRef): void {
  describe('routes', () => {
    it('routes - register then lookup returns the route as given', async () => {
      const { routes } = fixture().cache;
      const r = route(42, 'gate-a', 'c1', 3, 1_700_000_123_456);
      await routes.register(r, TTL);
      const found = await routes.lookup([42]);
      expect([...found.keys()]).toEqual([42]);
      expect(found.get(42)).toEqual([r]);
    });

    it('routes - the token id a session logged in with comes back with its route, through refresh too', async () => {
      const { routes } = fixture().cache;
      const byToken = { ...route(9, 'gate-a', 'c1'), tokenId: '0123456789abcdef' };
      const byPassword = route(9, 'gate-b', 'c2');
      await routes.register(byToken, TTL);
      await routes.register(byPassword, TTL);
      expect(sorted((await routes.lookup([9])).get(9))).toEqual([byToken, byPassword]);
      expect((await routes.lookup([9])).get(9)!.find((r) => r.connId === 'c2')).not.toHaveProperty('tokenId');
      await routes.refresh([byToken, byPassword], TTL);
      expect(sorted((await routes.lookup([9])).get(9))).toEqual([byToken, byPassword]);
      await expect(routes.register({ ...byToken, tokenId: 'a|b' }, TTL)).rejects.toMatchObject({
        code: 'IM_ERR_CACHE_INVALID_ARGUMENT',
      });
    });

    it('routes - one route per connection (multi-device); re-registering a connection replaces it', async () => {
      const { routes } = fixture().cache;
      await routes.register(route(7, 'gate-a', 'c1', 1), TTL);
      await routes.register(route(7, 'gate-b', 'c1', 2), TTL);
      await routes.register(route(7, 'gate-a', 'c2', 3), TTL);
      await routes.register(route(7, 'gate-a', 'c1', 4, 1_800_000_000_000), TTL);
      expect(sorted((await routes.lookup([7])).get(7))).toEqual([
        route(7, 'gate-a', 'c1', 4, 1_800_000_000_000),
        route(7, 'gate-a', 'c2', 3),
        route(7, 'gate-b', 'c1', 2),
      ]);
    });

    it('routes - unregister removes only that connection and ignores unknown ones', async () => {
      const { routes } = fixture().cache;
      await routes.register(route(7, 'gate-a', 'c1'), TTL);
      await routes.register(route(7, 'gate-a', 'c2'), TTL);
      await routes.register(route(8, 'gate-a', 'c1'), TTL);
      await routes.unregister(7, 'gate-a', 'c1');
      await routes.unregister(7, 'gate-a', 'nope');
      await routes.unregister(999, 'gate-a', 'c1');
      const found = await routes.lookup([7, 8]);
      expect(found.get(7)).toEqual([route(7, 'gate-a', 'c2')]);
      expect(found.get(8)).toEqual([route(8, 'gate-a', 'c1')]);
      await routes.unregister(7, 'gate-a', 'c2');
      expect((await routes.lookup([7])).has(7)).toBe(false);
    });

    it('routes - expired routes are never returned; each route expires on its own', async () => {
      const { routes } = fixture().cache;
      await routes.register(route(1, 'gate-a', 'short'), 150);
      await routes.register(route(1, 'gate-a', 'long'), TTL);
      await routes.register(route(2, 'gate-a', 'short'), 150);
      expect((await routes.lookup([1])).get(1)).toHaveLength(2);
      await sleep(300);
      const found = await routes.lookup([1, 2]);
      expect(found.get(1)).toEqual([route(1, 'gate-a', 'long')]);
      expect(found.has(2)).toBe(false);
    });

    it('routes - a later register with a short TTL does not cut a sibling route short', async () => {
      const { routes } = fixture().cache;
      await routes.register(route(1, 'gate-a', 'long'), 1_000);
      await routes.register(route(1, 'gate-a', 'short'), 100);
      await sleep(300);
      expect((await routes.lookup([1])).get(1)).toEqual([route(1, 'gate-a', 'long')]);
    });

    it('routes - refresh extends routes past their original TTL', async () => {
      const { routes } = fixture().cache;
      await routes.register(route(1, 'gate-a', 'c1'), 250);
      await routes.register(route(2, 'gate-a', 'c1'), 250);
      await sleep(100);
      await routes.refresh([route(1, 'gate-a', 'c1')], 1_000);
      await sleep(300);
      const found = await routes.lookup([1, 2]);
      expect(found.get(1)).toEqual([route(1, 'gate-a', 'c1')]);
      expect(found.has(2)).toBe(false);
    });

    it('routes - refresh re-creates routes lost with the data', async () => {
      const fx = fixture();
      const sweep = [route(1, 'gate-a', 'c1'), route(1, 'gate-b', 'c9'), route(2, 'gate-a', 'c2')];
      for (const r of sweep) await fx.cache.routes.register(r, TTL);
      await fx.wipe();
      expect((await fx.cache.routes.lookup([1, 2])).size).toBe(0);
      await fx.cache.routes.refresh(sweep, TTL);
      const found = await fx.cache.routes.lookup([1, 2]);
      expect(sorted(found.get(1))).toEqual([sweep[0], sweep[1]]);
      expect(found.get(2)).toEqual([sweep[2]]);
    });

    it('routes - refresh of thousands of routes, then one batched lookup of 1,000 users', async () => {
      const { routes } = fixture().cache;
      const all: Route[] = [];
      for (let userId = 1; userId <= 1_000; userId++) {
        all.push(route(userId, `gate-${userId % 2}`, `c${userId}`, userId % 5));
        if (userId % 3 === 0) all.push(route(userId, 'gate-x', `w${userId}`, 9));
      }
      await routes.refresh(all, TTL);
      const unknown = Array.from({ length: 100 }, (_, i) => 10_000 + i);
      const found = await routes.lookup([...Array.from({ length: 1_000 }, (_, i) => i + 1), ...unknown]);
      expect(found.size).toBe(1_000);
      for (let userId = 1; userId <= 1_000; userId++) {
        expect(sorted(found.get(userId))).toEqual(sorted(all.filter((r) => r.userId === userId)));
      }
      for (const userId of unknown) expect(found.has(userId)).toBe(false);
    });

    it('routes - lookup of no users, and of the same user twice', async () => {
      const { routes } = fixture().cache;
      expect((await routes.lookup([])).size).toBe(0);
      await routes.register(route(5, 'gate-a', 'c1'), TTL);
      const found = await routes.lookup([5, 5]);
      expect(found.get(5)).toEqual([route(5, 'gate-a', 'c1')]);
    });

    it("routes - removeGate drops that gate's routes only, and later registers are kept", async () => {
      const { routes } = fixture().cache;
      await routes.register(route(1, 'gate-a', 'c1'), TTL);
      await routes.register(route(1, 'gate-ab', 'c1'), TTL);
      await routes.register(route(2, 'gate-a', 'c2'), TTL);
      await routes.refresh([route(3, 'gate-a', 'c3'), route(3, 'gate-b', 'c3')], TTL);
      await routes.removeGate('gate-a');
      let found = await routes.lookup([1, 2, 3]);
      expect(found.get(1)).toEqual([route(1, 'gate-ab', 'c1')]);
      expect(found.has(2)).toBe(false);
      expect(found.get(3)).toEqual([route(3, 'gate-b', 'c3')]);
      await routes.removeGate('gate-unknown');
      await routes.register(route(2, 'gate-a', 'c5'), TTL);
      found = await routes.lookup([2]);
      expect(found.get(2)).toEqual([route(2, 'gate-a', 'c5')]);
    });

    it('routes - invalid arguments are rejected with InvalidCacheArgumentError', async () => {
      const { routes } = fixture().cache;
      const invalid = { code: 'IM_ERR_CACHE_INVALID_ARGUMENT' };
      await expect(routes.register(route(1, 'gate|a', 'c1'), TTL)).rejects.toMatchObject(invalid);
      await expect(routes.register(route(1, '', 'c1'), TTL)).rejects.toMatchObject(invalid);
      await expect(routes.register(route(1, 'gate-a', ''), TTL)).rejects.toMatchObject(invalid);
      await expect(routes.register(route(1.5, 'gate-a', 'c1'), TTL)).rejects.toMatchObject(invalid);
      await expect(routes.register(route(2 ** 53, 'gate-a', 'c1'), TTL)).rejects.toMatchObject(invalid);
      await expect(routes.register(route(1, 'gate-a', 'c1'), 0)).rejects.toMatchObject(invalid);
      await expect(
        routes.refresh([route(1, 'gate-a', 'c1'), route(-1, 'gate-a', 'c1')], TTL),
      ).rejects.toMatchObject(invalid);
      await expect(routes.lookup([Number.NaN])).rejects.toMatchObject(invalid);
      // Nothing half-applied from the rejected refresh.
      expect((await routes.lookup([1])).size).toBe(0);
    });

    it('routes - gates() lists exactly the gates holding a live route', async () => {
      const { routes } = fixture().cache;
      expect(await routes.gates()).toEqual([]);
      await routes.register(route(1, 'gate-a', 'c1'), TTL);
      await routes.register(route(2, 'gate-a', 'c2'), TTL);
      await routes.refresh([route(3, 'gate-b', 'c3')], TTL);
      await routes.register(route(4, 'gate-short', 'c4'), 150);
      expect((await routes.gates()).sort()).toEqual(['gate-a', 'gate-b', 'gate-short']);
      await sleep(300);
      expect((await routes.gates()).sort()).toEqual(['gate-a', 'gate-b']);
      await routes.unregister(1, 'gate-a', 'c1');
      expect((await routes.gates()).sort()).toEqual(['gate-a', 'gate-b']);
      await routes.unregister(2, 'gate-a', 'c2');
      expect(await routes.gates()).toEqual(['gate-b']);
      await routes.removeGate('gate-b');
      expect(await routes.gates()).toEqual([]);
      // A register after removeGate puts the gate back.
      await routes.register(route(5, 'gate-b', 'c5'), TTL);
      expect(await routes.gates()).toEqual(['gate-b']);
    });

    it('routes - online() counts each user once over all gates and devices, pages by ascending id', async () => {
      const { routes } = fixture().cache;
      expect(await routes.online(0, 10)).toEqual({ total: 0, userIds: [] });
      await routes.refresh(
        [
          route(30, 'gate-a', 'c1'),
          route(30, 'gate-b', 'c1'),
          route(30, 'gate-a', 'c2'),
          route(2, 'gate-a', 'c3'),
          route(100, 'gate-b', 'c4'),
          route(7, 'gate-c', 'c5'),
        ],
        TTL,
      );
      await routes.register(route(9, 'gate-c', 'short'), 150);
      expect(await routes.online(0, 2)).toEqual({ total: 5, userIds: [2, 7] });
      expect(await routes.online(7, 2)).toEqual({ total: 5, userIds: [9, 30] });
      expect(await routes.online(30, 2)).toEqual({ total: 5, userIds: [100] });
      await sleep(300);
      await routes.unregister(7, 'gate-c', 'c5');
      await routes.unregister(30, 'gate-a', 'c1');
      await routes.unregister(30, 'gate-a', 'c2');
      // Still online through gate-b; 7 logged out and 9 expired.
      expect(await routes.online(0, 100)).toEqual({ total: 3, userIds: [2, 30, 100] });
      await routes.removeGate('gate-b');
      expect(await routes.online(0, 100)).toEqual({ total: 1, userIds: [2] });
      await expect(routes.online(0, 0)).rejects.toMatchObject({ code: 'IM_ERR_CACHE_INVALID_ARGUMENT' });
      await expect(routes.online(-1, 10)).rejects.toMatchObject({ code: 'IM_ERR_CACHE_INVALID_ARGUMENT' });
    });
  });
}
