import type { SessionKey, SessionRepository } from '@mqim/store';

/**
 * Which (user, session) pairs are conversations of that user, for refusing receipts that name
 * someone else's (issue 10 #12). A session, once it exists, stays a party's for good, so a
 * positive answer is kept (bounded, oldest dropped first) and a user's steady receipts cost no
 * query; a negative one is never kept (the first message of a conversation may land a second
 * later). What is not known is asked in one query per batch of receipts.
 */
export class KnownSessions {
  private readonly known = new Set<string>();

  constructor(
    private readonly sessions: Pick<SessionRepository, 'existing'>,
    private readonly max = 200_000,
  ) {}

  /** For each key, in order, whether the owner has that session. */
  async filter(keys: readonly SessionKey[]): Promise<boolean[]> {
    const answers = keys.map((k) => this.known.has(keyOf(k)));
    const unknown = keys.filter((_, i) => !answers[i]);
    if (unknown.length === 0) return answers;
    const found = await this.sessions.existing(unknown);
    const yes = new Set<string>();
    unknown.forEach((k, i) => {
      if (found[i]) yes.add(keyOf(k));
    });
    for (const k of yes) this.remember(k);
    return keys.map((k, i) => answers[i] || yes.has(keyOf(k)));
  }

  private remember(key: string): void {
    if (this.known.size >= this.max) {
      const oldest = this.known.values().next().value;
      if (oldest !== undefined) this.known.delete(oldest);
    }
    this.known.add(key);
  }
}

function keyOf(k: SessionKey): string {
  return `${k.ownerUserId}:${k.sessionType}:${k.sessionId}`;
}
