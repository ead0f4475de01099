import { concatSamples, summarize } from './stats';

describe('stats - summarize', () => {
  it('takes nearest-rank percentiles over every sample', () => {
    const s = summarize(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(s).toEqual({ n: 100, p50: 50, p95: 95, p99: 99, max: 100, mean: 50.5 });
  });

  it('reports zeros for no samples instead of NaN', () => {
    expect(summarize([])).toEqual({ n: 0, p50: 0, p95: 0, p99: 0, max: 0, mean: 0 });
  });

  it('sorts numerically, not as strings', () => {
    expect(summarize([10, 9, 100, 2]).max).toBe(100);
    expect(summarize([10, 9, 100, 2]).p50).toBe(9);
  });

  it('concatenates per-worker samples in order', () => {
    expect([...concatSamples([[1, 2], [], [3]])]).toEqual([1, 2, 3]);
  });
});
