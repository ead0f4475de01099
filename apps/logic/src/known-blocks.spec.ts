import { createSqliteStore, type Store } from '@mqim/store';
import { KnownBlocks } from './known-blocks';

describe('known blocks - the send path asks the store once per ttl, a turn of questions in one query', () => {
  let store: Store;
  let queries: Array<readonly (readonly [number, number])[]>;
  beforeEach(async () => {
    store = await createSqliteStore({ filename: ':memory:' });
    queries = [];
    const blockingPairs = store.contacts.blockingPairs.bind(store.contacts);
    store.contacts.blockingPairs = (pairs) => {
      queries.push(pairs);
      return blockingPairs(pairs);
    };
  });
  afterEach(() => store.close());

  it('blocks - cached within the ttl, asked again after `changed`, and after the ttl', async () => {
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
      expect(queries).toHaveLength(3);
      // This logic unblocked: at once.
      await store.contacts.setBlocked(1, 2, false);
      known.changed(1);
      expect(await known.blocks(1, 2)).toBe(false);
      expect(queries).toHaveLength(4);
    } finally {
      spy.mockRestore();
    }
  });

  it('blocks - the questions of one turn (a batch of sends) are one store query, each answered right', async () => {
    await store.contacts.setBlocked(5, 6, true);
    await store.contacts.setBlocked(7, 8, true);
    const known = new KnownBlocks(store.contacts, 2_000);
    const answers = await Promise.all([
      known.blocks(5, 6),
      known.blocks(6, 5),
      known.blocks(7, 8),
      known.blocks(7, 9),
      known.blocks(5, 6),
    ]);
    expect(answers).toEqual([true, false, true, false, true]);
    expect(queries).toHaveLength(1);
    expect(queries[0]).toHaveLength(4);
  });

  it('blocks - a store failure fails the questions waiting on it, and the next turn asks again', async () => {
    const known = new KnownBlocks(store.contacts, 2_000);
    const real = store.contacts.blockingPairs;
    store.contacts.blockingPairs = () => Promise.reject(new Error('db down'));
    await expect(Promise.all([known.blocks(1, 2), known.blocks(3, 4)])).rejects.toThrow('db down');
    store.contacts.blockingPairs = real;
    await store.contacts.setBlocked(1, 2, true);
    expect(await known.blocks(1, 2)).toBe(true);
  });

  it('blocks - an answer read while this logic handled a block is used once, not kept', async () => {
    const known = new KnownBlocks(store.contacts, 60_000);
    const real = store.contacts.blockingPairs;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    // The store answers "not blocked" (read before the block), but only after the block was handled.
    store.contacts.blockingPairs = async (pairs) => {
      const answer = await real(pairs);
      await gate;
      return answer;
    };
    const asked = known.blocks(1, 2);
    await new Promise((r) => setImmediate(r));
    await store.contacts.setBlocked(1, 2, true);
    known.changed(1);
    release();
    expect(await asked).toBe(false);
    store.contacts.blockingPairs = real;
    expect(await known.blocks(1, 2)).toBe(true);
  });

  it('blocks - at most `max` answers are kept, the least recently read dropped first', async () => {
    const known = new KnownBlocks(store.contacts, 60_000, 2);
    await known.blocks(1, 2);
    await known.blocks(1, 3);
    await known.blocks(1, 4); // drops 1:2
    expect(queries).toHaveLength(3);
    await known.blocks(1, 4);
    await known.blocks(1, 3);
    expect(queries).toHaveLength(3);
    await known.blocks(1, 2);
    expect(queries).toHaveLength(4);
  });
});
