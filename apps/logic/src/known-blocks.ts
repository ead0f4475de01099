import type { ContactRepository } from '@mqim/store';

/**
 * Whom each recipient blocks, for the send path: a single-chat send asks it once per message, so
 * the list of a recipient is read from the store at most once per `ttlMs` (one primary-key range)
 * instead of once per message. A block or unblock handled by this process applies at once
 * (`changed`); one handled by another logic applies here within `ttlMs`.
 */
export class KnownBlocks {
  private readonly lists = new Map<number, { blocked: ReadonlySet<number>; at: number }>();

  constructor(
    private readonly contacts: ContactRepository,
    private readonly ttlMs = 2_000,
    private readonly max = 100_000,
    /** Blocks read per user; a user blocking more is asked about each sender instead. */
    private readonly perUser = 1_000,
  ) {}

  /** True when `recipient` blocks `sender`. */
  async blocks(recipient: number, sender: number): Promise<boolean> {
    const cached = this.lists.get(recipient);
    if (cached && Date.now() - cached.at < this.ttlMs) return cached.blocked.has(sender);
    const ids = await this.contacts.blockedIds(recipient, this.perUser + 1);
    if (ids.length > this.perUser) return this.contacts.isBlocked(recipient, sender);
    this.lists.delete(recipient);
    if (this.lists.size >= this.max) this.lists.delete(this.lists.keys().next().value as number);
    this.lists.set(recipient, { blocked: new Set(ids), at: Date.now() });
    return ids.includes(sender);
  }

  /** `owner` blocked or unblocked someone: read their list again next time. */
  changed(owner: number): void {
    this.lists.delete(owner);
  }
}
