import type { UserRepository } from '@mqim/store';

/**
 * Which user ids exist, and their nicknames. Users are never deleted, so a positive answer can be
 * cached forever; a negative one is never cached (the user may register a second later).
 * Nicknames can change, so they are kept for `nickTtlMs` only: a rename shows on new messages
 * within that time. Both maps are bounded; the oldest entries are dropped first.
 */
export class KnownUsers {
  private readonly known = new Set<number>();
  private readonly nicks = new Map<number, { nick: string; at: number }>();

  constructor(
    private readonly users: UserRepository,
    private readonly max = 200_000,
    private readonly nickTtlMs = 60_000,
  ) {}

  async exists(userId: number): Promise<boolean> {
    if (this.known.has(userId)) return true;
    const user = await this.users.findById(userId);
    if (!user) return false;
    this.remember(userId, user.nickName);
    return true;
  }

  /**
   * The nickname on the user's record, which messages carry as from_nick_name: never what the
   * sender wrote in the frame (issue 10 #11). '' for a user that does not exist.
   */
  async nickName(userId: number): Promise<string> {
    const cached = this.nicks.get(userId);
    if (cached && Date.now() - cached.at < this.nickTtlMs) return cached.nick;
    const user = await this.users.findById(userId);
    if (!user) return '';
    this.remember(userId, user.nickName);
    return user.nickName;
  }

  /** A nickname just stored (profile update): used from now on by this process. */
  renamed(userId: number, nick: string): void {
    this.remember(userId, nick);
  }

  private remember(userId: number, nick: string): void {
    if (!this.known.has(userId)) {
      if (this.known.size >= this.max) this.known.delete(this.known.values().next().value as number);
      this.known.add(userId);
    }
    this.nicks.delete(userId);
    if (this.nicks.size >= this.max) this.nicks.delete(this.nicks.keys().next().value as number);
    this.nicks.set(userId, { nick, at: Date.now() });
  }
}
