import type { ContactRepository } from '@mqim/store';

type Waiter = { resolve: (blocked: boolean) => void; reject: (err: unknown) => void };

/**
 * Whether a recipient blocks a sender, for the send path: a single-chat send asks it once per
 * message. An answer is kept for `ttlMs`; the questions of one event-loop turn (a batch of upstream
 * requests starts all its conversations at once) go to the store as one query of primary-key
 * lookups, so 1,000 msg/s among 1,000 users costs a few queries a second, not one per recipient
 * every `ttlMs` (docs/performance.md, round 10). A block or unblock handled by this process applies
 * at once (`changed`); one handled by another logic applies here within `ttlMs`.
 *
 * Memory: at most `max` answers (one per recipient-sender pair), the least recently asked dropped
 * first; an answer asked again after `ttlMs` is read again and moves to the back.
 */
export class KnownBlocks {
  /** `${recipient}:${sender}` → when the answer was read, negative when it is "blocked". */
  private readonly answers = new Map<string, number>();
  /** When `changed(owner)` was last called, for owners changed within the last `ttlMs`. */
  private readonly changedAt = new Map<number, number>();
  private pending = new Map<string, { pair: [number, number]; waiters: Waiter[] }>();
  private scheduled = false;

  constructor(
    private readonly contacts: ContactRepository,
    private readonly ttlMs = 2_000,
    private readonly max = 200_000,
  ) {}

  /** True when `recipient` blocks `sender`. */
  blocks(recipient: number, sender: number): Promise<boolean> {
    const key = `${recipient}:${sender}`;
    const stamp = this.answers.get(key);
    if (stamp !== undefined) {
      const at = Math.abs(stamp);
      const changed = this.changedAt.get(recipient);
      if (Date.now() - at < this.ttlMs && (changed === undefined || at > changed))
        return Promise.resolve(stamp < 0);
    }
    return new Promise((resolve, reject) => {
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

  /**
   * `owner` blocked or unblocked someone: answers about them read before now are not used again
   * (nor one being read right now).
   */
  changed(owner: number): void {
    const now = Date.now();
    this.changedAt.delete(owner);
    this.changedAt.set(owner, now);
    // Older marks no longer matter: every answer they could outdate has expired.
    for (const [o, at] of this.changedAt) {
      if (now - at < this.ttlMs) break;
      this.changedAt.delete(o);
    }
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    const batch = this.pending;
    this.pending = new Map();
    const asked = [...batch.values()];
    // Stamped before the read: a `changed` during it (same millisecond included) outdates it.
    const at = Date.now();
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
      this.answers.delete(key);
      if (this.answers.size >= this.max) this.answers.delete(this.answers.keys().next().value as string);
      this.answers.set(key, blocked ? -at : at);
      for (const w of e.waiters) w.resolve(blocked);
    }
  }
}
