import type { SequenceSeed } from '../cache.port';
import type { FixtureRef } from './cache.contract';

/** A seed that answers `value` and counts its calls. */
function seedOf(value: number): SequenceSeed & { calls: number } {
  const seed = async (): Promise<number> => {
    seed.calls++;
    return value;
  };
  seed.calls = 0;
  return seed;
}

function expectStrictlyIncreasing(values: readonly number[]): void {
  for (let i = 1; i < values.length; i++) expect(values[i]).toBeGreaterThan(values[i - 1]);
}

export function describeSequenceContract(fixture: FixtureRef): void {
  describe('sequences', () => {
    it('sequences - a new key starts after its seed and seed() is asked only while absent', async () => {
      const { sequences } = fixture().cache;
      const seed = seedOf(41);
      expect(await sequences.next('conv:1', seed)).toBe(42);
      expect(await sequences.next('conv:1', seed)).toBe(43);
      // A present counter ignores the seed, even a higher one.
      const ignored = seedOf(1_000);
      expect(await sequences.next('conv:1', ignored)).toBe(44);
      expect(seed.calls).toBe(1);
      expect(ignored.calls).toBe(0);
    });

    it('sequences - keys are independent', async () => {
      const { sequences } = fixture().cache;
      expect(await sequences.next('a', seedOf(0))).toBe(1);
      expect(await sequences.next('b', seedOf(10))).toBe(11);
      expect(await sequences.next('a', seedOf(0))).toBe(2);
    });

    it('sequences - 200 concurrent next() calls on an absent key get the next 200 ids, each once', async () => {
      const { sequences } = fixture().cache;
      const seed = seedOf(5);
      const ids = await Promise.all(Array.from({ length: 200 }, () => sequences.next('hot', seed)));
      expect([...ids].sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => 6 + i));
      expect(seed.calls).toBeGreaterThanOrEqual(1);
      const after = await sequences.next('hot', seed);
      expect(after).toBe(206);
    });

    it('sequences - 200 concurrent next() calls on a live counter', async () => {
      const { sequences } = fixture().cache;
      await sequences.next('warm', seedOf(0));
      const seed = seedOf(0);
      const ids = await Promise.all(Array.from({ length: 200 }, () => sequences.next('warm', seed)));
      expect([...ids].sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => 2 + i));
      expect(seed.calls).toBe(0);
    });

    it('sequences - after the data is lost the counter continues from the seed and never repeats', async () => {
      const fx = fixture();
      let persisted = 0; // what the store holds: every id is persisted before the next is asked
      const seed = async (): Promise<number> => persisted;
      const issued: number[] = [];
      for (let round = 0; round < 3; round++) {
        for (let i = 0; i < 5; i++) {
          const id = await fx.cache.sequences.next('conv', seed);
          issued.push(id);
          persisted = id;
        }
        await fx.wipe();
      }
      expect(issued).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
    });

    it('sequences - a failing seed() rejects and leaves the counter absent', async () => {
      const { sequences } = fixture().cache;
      await expect(
        sequences.next('k', async () => {
          throw new Error('store down');
        }),
      ).rejects.toThrow('store down');
      const seed = seedOf(9);
      expect(await sequences.next('k', seed)).toBe(10);
      expect(seed.calls).toBe(1);
    });

    it('sequences - nextBatch reserves a contiguous range disjoint from other calls', async () => {
      const { sequences } = fixture().cache;
      expect(await sequences.nextBatch('b', 10, seedOf(100))).toEqual({ first: 101, last: 110 });
      expect(await sequences.next('b', seedOf(0))).toBe(111);
      expect(await sequences.nextBatch('b', 1, seedOf(0))).toEqual({ first: 112, last: 112 });
      const ranges = await Promise.all(
        Array.from({ length: 20 }, () => sequences.nextBatch('b', 5, seedOf(0))),
      );
      const ids = ranges.flatMap((r) => Array.from({ length: 5 }, (_, i) => r.first + i));
      expect(new Set(ids).size).toBe(100);
      expect(Math.min(...ids)).toBe(113);
      expect(Math.max(...ids)).toBe(212);
      ranges.forEach((r) => expect(r.last - r.first).toBe(4));
    });

    it('sequences - sequential ids increase strictly', async () => {
      const { sequences } = fixture().cache;
      const ids: number[] = [];
      for (let i = 0; i < 50; i++) ids.push(await sequences.next('seq', seedOf(0)));
      expectStrictlyIncreasing(ids);
    });

    it('sequences - release gives back the last id only, so a failed write leaves no hole', async () => {
      const { sequences } = fixture().cache;
      expect(await sequences.next('rel', seedOf(10))).toBe(11);
      expect(await sequences.release('rel', 11)).toBe(true);
      expect(await sequences.next('rel', seedOf(10))).toBe(11);
      const later = await sequences.next('rel', seedOf(10));
      expect(later).toBe(12);
      // 11 is no longer the last id handed out: giving it back would reissue 12.
      expect(await sequences.release('rel', 11)).toBe(false);
      expect(await sequences.release('absent', 1)).toBe(false);
      expect(await sequences.next('rel', seedOf(10))).toBe(13);
    });

    it('sequences - invalid seeds and counts are rejected', async () => {
      const { sequences } = fixture().cache;
      const invalid = { code: 'IM_ERR_CACHE_INVALID_ARGUMENT' };
      await expect(sequences.next('x', seedOf(-1))).rejects.toMatchObject(invalid);
      await expect(sequences.next('x', seedOf(1.5))).rejects.toMatchObject(invalid);
      await expect(sequences.next('x', seedOf(Number.NaN))).rejects.toMatchObject(invalid);
      await expect(sequences.nextBatch('x', 0, seedOf(0))).rejects.toMatchObject(invalid);
      expect(await sequences.next('x', seedOf(3))).toBe(4);
    });
  });
}
