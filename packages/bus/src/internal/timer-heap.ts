/**
 * Many deadlines, one `setTimeout`: a binary min-heap of callbacks ordered by due time (ties in
 * insertion order), with a single timer armed for the earliest. Cancelling is left to callers (a
 * callback checks whether it still matters), which keeps scheduling O(log n) with no bookkeeping.
 */
interface TimerItem {
  at: number;
  seq: number;
  fire: () => void;
}

// setTimeout clamps anything above 2^31-1 ms to 1 ms; re-arm in steps instead.
const MAX_TIMEOUT_MS = 2_147_483_647;

export class TimerHeap {
  private readonly items: TimerItem[] = [];
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;
  private armedAt = Infinity;
  private stopped = false;
  private holders = 0;

  constructor(
    private readonly now: () => number = Date.now,
    // A failing callback must not stop the others; by default it surfaces as an uncaught error.
    private readonly onError: (err: unknown) => void = (err) =>
      queueMicrotask(() => {
        throw err;
      }),
  ) {}

  get size(): number {
    return this.items.length;
  }

  /** Runs `fire` at (or soon after) unix ms `at`; an `at` in the past runs on the next timer turn. */
  schedule(at: number, fire: () => void): void {
    if (this.stopped) return;
    const item = { at, seq: this.seq++, fire };
    const items = this.items;
    items.push(item);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(item, items[parent]!)) break;
      items[i] = items[parent]!;
      i = parent;
    }
    items[i] = item;
    if (at < this.armedAt) this.arm();
  }

  /**
   * While at least one holder asked for it, the timer keeps the process alive (normally it does
   * not: a bus with only future deliveries pending must not hold a finished process open).
   */
  keepAlive(on: boolean): void {
    this.holders = Math.max(0, this.holders + (on ? 1 : -1));
    if (this.timer) this.applyRef(this.timer);
  }

  /** Drops every pending callback and the timer; later `schedule` calls are ignored. */
  stop(): void {
    this.stopped = true;
    this.items.length = 0;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.armedAt = Infinity;
  }

  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const first = this.items[0];
    if (!first) {
      this.armedAt = Infinity;
      return;
    }
    this.armedAt = first.at;
    const wait = Math.min(Math.max(0, first.at - this.now()), MAX_TIMEOUT_MS);
    this.timer = setTimeout(this.onTimer, wait);
    this.applyRef(this.timer);
  }

  private applyRef(timer: NodeJS.Timeout): void {
    if (this.holders > 0) timer.ref();
    else timer.unref();
  }

  private readonly onTimer = (): void => {
    this.timer = undefined;
    this.armedAt = Infinity;
    const now = this.now();
    while (this.items.length > 0 && this.items[0]!.at <= now && !this.stopped) {
      const item = this.pop();
      try {
        item.fire();
      } catch (err) {
        this.onError(err);
      }
    }
    if (!this.stopped) this.arm();
  };

  private pop(): TimerItem {
    const items = this.items;
    const top = items[0]!;
    const last = items.pop()!;
    if (items.length > 0) {
      let i = 0;
      const n = items.length;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const child = r < n && before(items[r]!, items[l]!) ? r : l;
        if (!before(items[child]!, last)) break;
        items[i] = items[child]!;
        i = child;
      }
      items[i] = last;
    }
    return top;
  }
}

function before(a: TimerItem, b: TimerItem): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
