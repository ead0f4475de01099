/**
 * Sends per user across all of the user's connections on this gate (issue 10 #13): a token bucket
 * per user, so opening more connections (or devices) does not multiply what one user may send.
 * The per-connection frame limit still applies to each connection. Buckets that refilled to full
 * carry no information and are dropped by `sweep()`, so the map holds only recent senders.
 */
export class UserSendLimiter {
  private readonly buckets = new Map<number, { tokens: number; at: number }>();

  /** @param perSecond sustained sends per second per user; 0 turns the limit off */
  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
  ) {}

  get tracked(): number {
    return this.buckets.size;
  }

  /** True when the user may send one more message now (and counts it). */
  take(userId: number, now: number): boolean {
    if (this.perSecond <= 0) return true;
    const b = this.buckets.get(userId);
    if (!b) {
      this.buckets.set(userId, { tokens: this.burst - 1, at: now });
      return true;
    }
    b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) * this.perSecond) / 1000);
    b.at = now;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /** Drops the buckets that are full again by `now`. */
  sweep(now: number): void {
    for (const [userId, b] of this.buckets)
      if (b.tokens + ((now - b.at) * this.perSecond) / 1000 >= this.burst) this.buckets.delete(userId);
  }
}
