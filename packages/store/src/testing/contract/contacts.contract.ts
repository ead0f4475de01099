import { StoreInvalidArgumentError } from '../../store.errors';
import type { ContractFixture } from './fixture';

export function contactContract(fx: ContractFixture): void {
  describe('contacts', () => {
    it('contacts - a request, then its acceptance, makes a symmetric friendship once', async () => {
      const [a, b] = fx.ids(2) as [number, number];
      expect(await fx.store.contacts.request(a, b, 'hi')).toBe('requested');
      expect(await fx.store.contacts.request(a, b, 'hi again')).toBe('requested');
      expect(await fx.store.contacts.state(a, b)).toBe('requested');
      expect(await fx.store.contacts.state(b, a)).toBe('pending');
      const { incoming } = await fx.store.contacts.requests(b, 10);
      expect(incoming.map((r) => [r.fromUserId, r.toUserId, r.note])).toEqual([[a, b, 'hi again']]);
      expect((await fx.store.contacts.requests(a, 10)).outgoing).toHaveLength(1);

      expect(await fx.store.contacts.respond(b, a, true)).toBe('accepted');
      // A redelivered accept answers the same state, without a second row.
      expect(await fx.store.contacts.respond(b, a, true)).toBe('friends');
      expect(await fx.store.contacts.friendIds(a, 10)).toEqual([b]);
      expect(await fx.store.contacts.friendIds(b, 10)).toEqual([a]);
      expect(await fx.store.contacts.state(a, b)).toBe('friends');
      expect(await fx.store.contacts.requests(b, 10)).toEqual({ incoming: [], outgoing: [] });
      expect(await fx.store.contacts.request(a, b, '')).toBe('friends');
    });

    it('contacts - crossing requests complete each other; decline and remove undo', async () => {
      const [a, b, c] = fx.ids(3) as [number, number, number];
      expect(await fx.store.contacts.request(a, b, '')).toBe('requested');
      expect(await fx.store.contacts.request(b, a, '')).toBe('accepted');
      expect(await fx.store.contacts.friendsAmong(a, [c, b])).toEqual([b]);
      expect(await fx.store.contacts.remove(b, a)).toBe(true);
      expect(await fx.store.contacts.remove(b, a)).toBe(false);
      expect(await fx.store.contacts.friendIds(a, 10)).toEqual([]);

      expect(await fx.store.contacts.request(c, a, '')).toBe('requested');
      expect(await fx.store.contacts.respond(a, c, false)).toBe('declined');
      expect(await fx.store.contacts.respond(a, c, true)).toBe('none');
      expect(await fx.store.contacts.state(a, c)).toBe('none');
    });

    it('contacts - a block ends the friendship, refuses requests both ways, and lifts', async () => {
      const [a, b] = fx.ids(2) as [number, number];
      await fx.store.contacts.request(a, b, '');
      await fx.store.contacts.respond(b, a, true);
      expect(await fx.store.contacts.setBlocked(b, a, true)).toBe(true);
      expect(await fx.store.contacts.setBlocked(b, a, true)).toBe(false);
      expect(await fx.store.contacts.isBlocked(b, a)).toBe(true);
      expect(await fx.store.contacts.isBlocked(a, b)).toBe(false);
      expect(await fx.store.contacts.friendIds(a, 10)).toEqual([]);
      expect(await fx.store.contacts.request(a, b, '')).toBe('blocked');
      expect(await fx.store.contacts.request(b, a, '')).toBe('blocking');
      expect(await fx.store.contacts.state(b, a)).toBe('blocked');
      expect(await fx.store.contacts.blockedIds(b, 10)).toEqual([a]);
      expect(await fx.store.contacts.blockersAmong(a, [a, b, b])).toEqual([b]);
      expect(await fx.store.contacts.blockersAmong(b, [a])).toEqual([]);
      expect(await fx.store.contacts.blockersAmong(a, [])).toEqual([]);
      expect(
        await fx.store.contacts.blockingPairs([
          [a, b],
          [b, a],
          [b, a],
          [b, a + b + 1000],
        ]),
      ).toEqual([[b, a]]);
      expect(await fx.store.contacts.blockingPairs([])).toEqual([]);
      expect(await fx.store.contacts.setBlocked(b, a, false)).toBe(true);
      expect(await fx.store.contacts.request(a, b, '')).toBe('requested');
    });

    it('contacts - blockingPairs finds every block among hundreds of pairs, in any position', async () => {
      const [a, b, c] = fx.ids(3) as [number, number, number];
      await fx.store.contacts.setBlocked(b, a, true);
      await fx.store.contacts.setBlocked(c, a, true);
      // Neither 17 nor 617 (500 + 117) pairs is a size statements are built for (they are padded).
      const strangers = (n: number) =>
        Array.from({ length: n }, (_, i) => [a, a + b + c + 1000 + i] as const);
      expect(await fx.store.contacts.blockingPairs([...strangers(16), [b, a]])).toEqual([[b, a]]);
      expect(await fx.store.contacts.blockingPairs([[c, a], ...strangers(615), [b, a]])).toEqual([
        [c, a],
        [b, a],
      ]);
    });

    it('contacts - a block set after a request makes accepting it fail', async () => {
      const [a, b] = fx.ids(2) as [number, number];
      await fx.store.contacts.request(a, b, '');
      await fx.store.contacts.setBlocked(a, b, true);
      expect(await fx.store.contacts.respond(b, a, true)).toBe('none');
      expect(await fx.store.contacts.friendIds(b, 10)).toEqual([]);
    });

    it('contacts - bad arguments are refused', async () => {
      const [a] = fx.ids(1) as [number];
      await expect(fx.store.contacts.request(a, a, '')).rejects.toBeInstanceOf(StoreInvalidArgumentError);
      await expect(fx.store.contacts.request(a, -1, '')).rejects.toBeInstanceOf(StoreInvalidArgumentError);
      await expect(fx.store.contacts.request(a, a + 1, 'x'.repeat(257))).rejects.toBeInstanceOf(
        StoreInvalidArgumentError,
      );
      await expect(fx.store.contacts.friendIds(a, 0)).rejects.toBeInstanceOf(StoreInvalidArgumentError);
    });
  });
}
