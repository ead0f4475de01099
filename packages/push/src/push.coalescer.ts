import type { PushNotification } from './push.port';

/** The notifications of one user gathered in one window. */
export interface CoalescedBatch {
  /** How many notifications were merged (≥ 1). */
  count: number;
  first: PushNotification;
  last: PushNotification;
  /** Every merged notification had the same `collapseKey` (one conversation). */
  sameCollapseKey: boolean;
}

/** Collapse key of summaries spanning several conversations: each replaces the previous one. */
export const SUMMARY_COLLAPSE_KEY = 'mqim-summary';

/**
 * One notification stands for itself; several become "N new messages" with the newest preview as
 * body. The newest notification's badge and data win: the badge is an absolute count, and tapping
 * the summary should open the conversation that was written to last.
 */
export function summarizeBatch(batch: CoalescedBatch): PushNotification {
  const { count, last } = batch;
  if (count === 1) return last;
  return {
    ...last,
    title: `${count} new messages`,
    body: last.title ? `${last.title}: ${last.body}` : last.body,
    collapseKey: batch.sameCollapseKey ? last.collapseKey : SUMMARY_COLLAPSE_KEY,
  };
}

export interface PushCoalescerOptions {
  /** How long notifications to one user are gathered before one push goes out. */
  windowMs: number;
  /** At most this many pushes per user per `capIntervalMs`. */
  cap: number;
  capIntervalMs: number;
  now: () => number;
}

interface UserState {
  /** Pending batch; absent when nothing waits. */
  batch?: CoalescedBatch;
  timer?: NodeJS.Timeout;
  /** When this user's recent pushes went out, oldest first; at most `cap` entries. */
  sent: number[];
}

/**
 * Per-user trailing-window coalescing plus a sliding-window cap. The first notification for a user
 * opens a window; everything until it closes merges into one push. When the user has had `cap`
 * pushes in the last `capIntervalMs`, the batch is not dropped but kept open (still merging) until
 * the oldest of those pushes ages out — so a flood in a large group costs each member at most
 * `cap` pushes per interval, and the last one still says how many messages arrived.
 *
 * Memory is O(users with a pending batch or a recent push), one small record each.
 */
export class PushCoalescer {
  private readonly users = new Map<number, UserState>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly options: PushCoalescerOptions,
    private readonly emit: (userId: number, batch: CoalescedBatch) => void,
  ) {
    // Forget users whose pushes have all aged out; nothing else would ever delete them.
    this.sweeper = setInterval(() => this.sweep(), options.capIntervalMs);
    this.sweeper.unref();
  }

  /** Users with a batch waiting for its window (or for the cap) to open. */
  get pendingUsers(): number {
    let n = 0;
    for (const s of this.users.values()) if (s.batch) n++;
    return n;
  }

  add(n: PushNotification): void {
    let state = this.users.get(n.userId);
    if (!state) {
      state = { sent: [] };
      this.users.set(n.userId, state);
    }
    const batch = state.batch;
    if (batch) {
      batch.count++;
      batch.sameCollapseKey &&= batch.last.collapseKey === n.collapseKey;
      batch.last = n;
      return;
    }
    state.batch = { count: 1, first: n, last: n, sameCollapseKey: true };
    this.schedule(n.userId, state, Math.max(this.options.windowMs, this.capDelay(state)));
  }

  /**
   * Emits every pending batch now, ignoring windows but not the cap: batches held by the cap stay
   * pending until their turn.
   */
  flushAll(): void {
    for (const [userId, state] of this.users) {
      if (!state.batch || this.capDelay(state) > 0) continue;
      clearTimeout(state.timer);
      state.timer = undefined;
      this.fire(userId, state);
    }
  }

  /** Stops all timers and forgets everything; returns how many users' batches were dropped. */
  close(): number {
    clearInterval(this.sweeper);
    let dropped = 0;
    for (const s of this.users.values()) {
      clearTimeout(s.timer);
      if (s.batch) dropped++;
    }
    this.users.clear();
    return dropped;
  }

  private schedule(userId: number, state: UserState, delayMs: number): void {
    state.timer = setTimeout(() => {
      state.timer = undefined;
      const wait = this.capDelay(state);
      if (wait > 0) this.schedule(userId, state, wait);
      else this.fire(userId, state);
    }, delayMs);
  }

  private fire(userId: number, state: UserState): void {
    const batch = state.batch;
    if (!batch) return;
    state.batch = undefined;
    state.sent.push(this.options.now());
    this.emit(userId, batch);
  }

  /** 0 when the user may get a push now, else how long until the oldest recent push ages out. */
  private capDelay(state: UserState): number {
    const now = this.options.now();
    const horizon = now - this.options.capIntervalMs;
    while (state.sent.length > 0 && state.sent[0] <= horizon) state.sent.shift();
    if (state.sent.length < this.options.cap) return 0;
    return state.sent[0] - horizon;
  }

  private sweep(): void {
    for (const [userId, state] of this.users) {
      if (!state.batch && this.capDelay(state) === 0 && state.sent.length === 0) this.users.delete(userId);
    }
  }
}
