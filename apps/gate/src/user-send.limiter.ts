import type { RatePolicy, TokenBuckets } from '@mqim/cache';

/** Tokens a gate leases for a user are spent within this long, or dropped (see below). */
const LEASE_MS = 2_000;

interface UserAllowance {
  /** Sends this gate may still admit for the user without asking the shared bucket. */
  tokens: number;
  leasedAt: number;
  /** The lease in flight, if any; sends that found no token wait for it, in order. */
  pending?: Promise<void>;
  waiters: number;
  /** The shared bucket was found empty: refuse without asking again until a token is due. */
  emptyUntil: number;
}

/**
 * Sends per user across all of the user's connections on every gate (issue 10 #13): one token
 * bucket per user in the cache (Redis on a cluster), so neither more connections nor more gates
 * multiply what one user may send. The per-connection frame limit still applies to each
 * connection.
 *
 * The hot path stays local: a gate leases tokens from the shared bucket in chunks (a quarter of a
 * second of the rate, at most a quarter of the burst) and spends them here, leasing the next chunk
 * in the background when half is spent. The shared bucket is asked about once per chunk, not per
 * send; a user it finds empty is refused locally until its next token is due, so a flood costs one
 * call per refill interval, not one per frame. Nothing is over-granted: every admitted send spent
 * a token taken from the shared bucket. Leased tokens unspent after LEASE_MS are dropped (the user
 * moved, or stopped), so hoarded tokens cannot add much to a later burst.
 *
 * If the cache fails, sends are admitted (and the failure reported): the limit guards against
 * abuse, and refusing every user's sends while Redis is away would be an outage of our own.
 */
export class UserSendLimiter {
  private readonly users = new Map<number, UserAllowance>();
  private readonly policy: RatePolicy;
  private readonly chunk: number;

  /**
   * @param perSecond sustained sends per second per user; 0 turns the limit off
   * @param burst sends one user may make at once above that rate
   * @param buckets the shared buckets (cache.rates)
   * @param onError told when a lease failed and sends were admitted without it
   */
  constructor(
    perSecond: number,
    burst: number,
    private readonly buckets: TokenBuckets,
    private readonly onError: (err: Error) => void = () => undefined,
  ) {
    this.policy = { perSecond, burst };
    this.chunk = Math.max(1, Math.min(Math.ceil(perSecond / 4), Math.ceil(burst / 4)));
  }

  get tracked(): number {
    return this.users.size;
  }

  /**
   * Whether the user may send one more message now (and counts it): at once when this gate holds
   * a token for the user or knows the bucket is empty, else once the lease it asked for is back.
   * Promises of one user resolve in the order the sends came.
   */
  take(userId: number, now: number): boolean | Promise<boolean> {
    if (this.policy.perSecond <= 0) return true;
    let u = this.users.get(userId);
    if (!u) this.users.set(userId, (u = { tokens: 0, leasedAt: now, waiters: 0, emptyUntil: 0 }));
    if (u.tokens >= 1 && now - u.leasedAt > LEASE_MS) u.tokens = 0;
    // Sends already waiting go first: a newer send never overtakes them.
    if (u.waiters > 0) return this.wait(userId, u);
    if (u.tokens >= 1) return this.spend(userId, u);
    if (!u.pending && now < u.emptyUntil) return false;
    return this.wait(userId, u);
  }

  /** Forgets users with nothing leased, nothing in flight and no refusal pending. */
  sweep(now: number): void {
    for (const [userId, u] of this.users)
      if (
        !u.pending &&
        u.waiters === 0 &&
        now >= u.emptyUntil &&
        (u.tokens < 1 || now - u.leasedAt > LEASE_MS)
      )
        this.users.delete(userId);
  }

  private spend(userId: number, u: UserAllowance): true {
    u.tokens -= 1;
    if (u.tokens < this.chunk / 2 && !u.pending) this.lease(userId, u, this.chunk);
    return true;
  }

  private wait(userId: number, u: UserAllowance): Promise<boolean> {
    if (!u.pending) this.lease(userId, u, this.chunk);
    u.waiters++;
    return u.pending!.then(() => {
      u.waiters--;
      if (u.tokens >= 1) return this.spend(userId, u);
      if (Date.now() < u.emptyUntil) return false;
      return this.wait(userId, u);
    });
  }

  private lease(userId: number, u: UserAllowance, minimum: number): void {
    // Sends already waiting ride this lease too: one call for all of them.
    const want = Math.min(this.policy.burst, Math.max(minimum, u.waiters + 1));
    u.pending = this.buckets.take(`send:u:${userId}`, want, this.policy).then(
      (got) => {
        const now = Date.now();
        u.pending = undefined;
        u.tokens = (now - u.leasedAt > LEASE_MS ? 0 : u.tokens) + got;
        u.leasedAt = now;
        // Short of what was asked: the bucket is empty until its next token is due.
        if (got < want) u.emptyUntil = now + Math.ceil(1000 / this.policy.perSecond);
      },
      (err: Error) => {
        u.pending = undefined;
        u.tokens += want;
        u.leasedAt = Date.now();
        this.onError(err);
      },
    );
  }
}
