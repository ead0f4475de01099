import { createSqliteStore, type Store } from '@mqim/store';
import { KnownBlocks } from './known-blocks';

describe("known blocks - the send path reads a recipient's blocks once per ttl", () => {
  let store: Store;
  beforeEach(async () => {
    store = await createSqliteStore({ filename: ':memory:' });
  });
  afterEach(() => store.close());

  it('blocks - cached within the ttl, re-read after `changed`, and after the ttl', async () => {
    const reads: number[] = [];
    const blockedIds = store.contacts.blockedIds.bind(store.contacts);
    store.contacts.blockedIds = (userId, limit) => {
      reads.push(userId);
      return blockedIds(userId, limit);
    };
    let now = 1_000_000;
    const spy = jest.spyOn(Date, 'now').mockImplementation(() => now);
    try {
      const known = new KnownBlocks(store.contacts, 2_000);
      expect(await known.blocks(1, 2)).toBe(false);
      await store.contacts.setBlocked(1, 2, true);
      // Another logic blocked: not seen until the ttl runs out.
      expect(await known.blocks(1, 2)).toBe(false);
      now += 2_001;
      expect(await known.blocks(1, 2)).toBe(true);
      expect(await known.blocks(1, 3)).toBe(false);
      expect(reads).toEqual([1, 1]);
      // This logic unblocked: at once.
      await store.contacts.setBlocked(1, 2, false);
      known.changed(1);
      expect(await known.blocks(1, 2)).toBe(false);
      expect(reads).toEqual([1, 1, 1]);
    } finally {
      spy.mockRestore();
    }
  });

  it('blocks - a user blocking more than the per-user cap is asked about each sender', async () => {
    for (const peer of [2, 3, 4]) await store.contacts.setBlocked(1, peer, true);
    const known = new KnownBlocks(store.contacts, 2_000, 100, 2);
    expect(await known.blocks(1, 4)).toBe(true);
    expect(await known.blocks(1, 5)).toBe(false);
  });
});
