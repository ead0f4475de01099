import { Deque } from './deque';
import { TimerHeap } from './timer-heap';

describe('TimerHeap', () => {
  // Time is the subject: jest's clock, moved on purpose.
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('timers - fire in due order, ties in insertion order, with one timer', () => {
    const heap = new TimerHeap();
    const fired: string[] = [];
    const now = Date.now();
    heap.schedule(now + 30, () => fired.push('c'));
    heap.schedule(now + 10, () => fired.push('a1'));
    heap.schedule(now + 10, () => fired.push('a2'));
    heap.schedule(now + 20, () => fired.push('b'));
    heap.schedule(now - 5, () => fired.push('past'));
    jest.advanceTimersByTime(0);
    expect(fired).toEqual(['past']);
    jest.advanceTimersByTime(10);
    expect(fired).toEqual(['past', 'a1', 'a2']);
    jest.advanceTimersByTime(9);
    expect(fired).toEqual(['past', 'a1', 'a2']);
    jest.advanceTimersByTime(11);
    expect(fired).toEqual(['past', 'a1', 'a2', 'b', 'c']);
    expect(heap.size).toBe(0);
    expect(jest.getTimerCount()).toBe(0); // nothing left armed once empty
    heap.stop();
  });

  it('timers - stop drops pending callbacks', () => {
    const heap = new TimerHeap();
    let fired = false;
    heap.schedule(Date.now() + 5, () => (fired = true));
    heap.stop();
    jest.advanceTimersByTime(20);
    expect(fired).toBe(false);
  });

  it('timers - a throwing callback does not stop the others', () => {
    const errors: unknown[] = [];
    const heap = new TimerHeap(Date.now, (err) => errors.push(err));
    const fired: number[] = [];
    heap.schedule(Date.now(), () => {
      throw new Error('boom');
    });
    heap.schedule(Date.now(), () => fired.push(1));
    jest.advanceTimersByTime(1);
    expect(fired).toEqual([1]);
    expect(errors).toEqual([new Error('boom')]);
    heap.stop();
  });

  it('timers - 10k random deadlines come out sorted', () => {
    let now = 0;
    const heap = new TimerHeap(() => now);
    const out: number[] = [];
    for (let i = 0; i < 10_000; i++) {
      const at = Math.floor(Math.random() * 1e6);
      heap.schedule(at, () => out.push(at));
    }
    now = 1e6;
    // Drive the private handler directly: the clock is fake.
    (heap as unknown as { onTimer: () => void }).onTimer();
    expect(out).toHaveLength(10_000);
    for (let i = 1; i < out.length; i++) expect(out[i]! >= out[i - 1]!).toBe(true);
    heap.stop();
  });
});

describe('Deque', () => {
  it('deque - push/shift/unshift across growth keep FIFO order', () => {
    const d = new Deque<number>(2);
    const model: number[] = [];
    for (let i = 0; i < 1000; i++) {
      if (i % 7 === 3) {
        d.unshift(-i);
        model.unshift(-i);
      } else {
        d.push(i);
        model.push(i);
      }
      if (i % 3 === 0) expect(d.shift()).toBe(model.shift());
    }
    expect([...d]).toEqual(model);
    expect(d.length).toBe(model.length);
    expect(d.peek()).toBe(model[0]);
    d.clear();
    expect(d.shift()).toBeUndefined();
  });
});
