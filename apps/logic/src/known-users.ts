import type { UserRepository } from '@mqim/store';

/**
 * Which user ids exist. Users are never deleted, so a positive answer can be cached forever; a
 * negative one is never cached (the user may register a second later). Bounded: the oldest
 * entries are dropped first.
 */
export class KnownUsers {
  private readonly known = new Set<number>();

  constructor(
    private readonly users: UserRepository,
    private readonly max = 200_000,
  ) {}

  async exists(userId: number): Promise<boolean> {
    if (this.known.has(userId)) return true;
    if (!(await this.users.findById(userId))) return false;
    if (this.known.size >= this.max) this.known.delete(this.known.values().next().value as number);
    this.known.add(userId);
    return true;
  }
}
