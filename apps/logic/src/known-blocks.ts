import type { ContactRepository } from '@mqim/store';

/** Senders remembered per recipient (a recipient written to by many starts over). */
const MAX_SENDERS = 1_000;

type Answer = { blocked: boolean; at: number };
type Waiter = { resolve: (blocked: boolean) => void; reject: (err: unknown) => void };

/**
 * Whether a recipient blocks a sender, for the send path: a single-chat send asks it once per
 * message. An answer is kept for `ttlMs`; the questions of one event-loop turn (a batch of upstream
 * requests starts all its conversations at once) go to the store as one query of primary-key
 * lookups, so 1,000 msg/s among 1,000 users costs a few queries a second, not one per recipient
 * every `ttlMs` (docs/performance.md, round 9). A block or unblock handled by this process applies
 * at once (`changed`); one handled by another logic applies here within `ttlMs`.
 */
export class KnownBlocks {
  /** recipient → sender → answer. */
  private readonly answers = new Map<number, Map<number, Answer>>();
  private pending = new Map<string, { pair: [number, number]; waiters: Waiter[] }>();
  private scheduled = false;
  /** Bumped by `changed`: an answer read while a change was made here is used once, not kept. */
  private epoch = 0;

  constructor(
    private readonly contacts: ContactRepository,
    private readonly ttlMs = 2_000,
    /** Recipients remembered; the oldest are dropped first. */
    private readonly max = 100_000,
  ) {}

  /** True when `recipient` blocks `sender`. */
  blocks(recipient: number, sender: number): Promise<boolean> {
    const cached = this.answers.get(recipient)?.get(sender);
    if (cached && Date.now() - cached.at < this.ttlMs) return Promise.resolve(cached.blocked);
    return new Promise((resolve, reject) => {
      const key = `${recipient}:${sender}`;
      const entry = this.pending.get(key);
      if (entry) entry.waiters.push({ resolve, reject });
      else this.pending.set(key, { pair: [recipient, sender], waiters: [{ resolve, reject }] });
      if (!this.scheduled) {
        this.scheduled = true;
        // After the current turn's microtasks: every conversation of the batch has asked by then.
        setImmediate(() => void this.flush());
      }
    });
  }

  /** `owner` blocked or unblocked someone: ask the store again next time. */
  changed(owner: number): void {
    this.answers.delete(owner);
    this.epoch++;
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    const batch = this.pending;
    this.pending = new Map();
    const asked = [...batch.values()];
    const at = Date.now();
    const epoch = this.epoch;
    let blocking: Set<string>;
    try {
      const found = await this.contacts.blockingPairs(asked.map((e) => e.pair));
      blocking = new Set(found.map(([owner, peer]) => `${owner}:${peer}`));
    } catch (err) {
      for (const e of asked) for (const w of e.waiters) w.reject(err);
      return;
    }
    for (const [key, e] of batch) {
      const blocked = blocking.has(key);
      if (epoch === this.epoch) this.remember(e.pair[0], e.pair[1], { blocked, at });
      for (const w of e.waiters) w.resolve(blocked);
    }
  }

  private remember(recipient: number, sender: number, answer: Answer): void {
    let senders = this.answers.get(recipient);
    if (!senders) {
      if (this.answers.size >= this.max) this.answers.delete(this.answers.keys().next().value as number);
      senders = new Map();
      this.answers.set(recipient, senders);
    } else if (senders.size >= MAX_SENDERS) senders.clear();
    senders.set(sender, answer);
  }
}
