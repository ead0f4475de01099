import { checkPositive, checkSeed } from './cache.args';
import type { SequenceCounter, SequenceRange, SequenceSeed } from './cache.port';

/**
 * In-process `SequenceCounter`. Single-threaded JS makes the read-max-increment step atomic; the
 * only await is `seed()`, after which the counter is re-read, so concurrent first callers still get
 * distinct ids.
 */
export class MemorySequenceCounter implements SequenceCounter {
  private readonly values = new Map<string, number>();

  constructor(private readonly guard: () => void) {}

  async next(key: string, seed: SequenceSeed): Promise<number> {
    return (await this.nextBatch(key, 1, seed)).last;
  }

  async nextBatch(key: string, count: number, seed: SequenceSeed): Promise<SequenceRange> {
    this.guard();
    checkPositive('count', count);
    let base = this.values.get(key);
    if (base === undefined) {
      const seeded = await seed();
      checkSeed(key, seeded);
      this.guard();
      base = Math.max(seeded, this.values.get(key) ?? 0);
    }
    const last = base + count;
    this.values.set(key, last);
    return { first: last - count + 1, last };
  }

  async release(key: string, id: number): Promise<boolean> {
    this.guard();
    if (this.values.get(key) !== id) return false;
    this.values.set(key, id - 1);
    return true;
  }

  clear(): void {
    this.values.clear();
  }
}
