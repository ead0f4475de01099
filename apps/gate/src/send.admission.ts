import type { Connection } from './connection';

/** Where an outstanding send is kept: the connection's admit times, oldest first. */
type SendHolder = Pick<Connection, 'sendsOutstanding'>;

export interface SendAdmissionOptions {
  /** Most sends outstanding at once, whatever the answer rate. */
  max: number;
  /** An answer that has not come in this long stops counting (its connection or reply was lost). */
  expireMs: number;
  /**
   * How long an admitted send may wait for its answer under overload. The gate admits at most
   * (answers per second it is getting) × this many sends at once: past capacity the queue in
   * front of logic stays about this long, and everyone beyond it is told "busy" at once instead
   * of waiting seconds. 0 = only `max` applies.
   * @default 0
   */
  targetMs?: number;
  /** The least it admits however slow answers come (a cold start has no answer rate yet). @default 256 */
  minOutstanding?: number;
}

/** The answer rate is measured over windows of this length, smoothed across them. */
const RATE_WINDOW_MS = 500;

/**
 * Admission control for sends: how many messages this gate has handed to logic and not yet seen
 * answered (the sender's 0x0302). When logic or the store fall behind, that number grows with
 * the backlog; past the limit a new send is refused with IM_ERR_BUSY at once, so senders back off
 * and the cluster keeps delivering at its capacity instead of queueing every sender into
 * seconds of latency.
 *
 * The limit follows Little's law: outstanding = answer rate × time in the system. With the rate
 * the gate actually gets answers at and a target time, the limit lets in what the cluster works
 * off within the target; a fixed count would let a queue of that count build whatever the rate
 * (8,192 sends at 1,000/s is 8 s of waiting for everyone admitted).
 */
export class SendAdmission {
  private total = 0;
  private readonly max: number;
  private readonly expireMs: number;
  private readonly targetMs: number;
  private readonly minOutstanding: number;
  /** Answers per second, smoothed; undefined until the first window closed. */
  private rate: number | undefined;
  private windowStart: number | undefined;
  private windowAnswers = 0;

  constructor(options: SendAdmissionOptions) {
    this.max = options.max;
    this.expireMs = options.expireMs;
    this.targetMs = options.targetMs ?? 0;
    this.minOutstanding = Math.min(options.minOutstanding ?? 256, options.max);
  }

  get outstanding(): number {
    return this.total;
  }

  /** How many sends may be outstanding now. */
  limit(now: number): number {
    if (this.targetMs <= 0) return this.max;
    this.roll(now);
    const byRate = Math.ceil(((this.rate ?? 0) * this.targetMs) / 1000);
    return Math.min(this.max, Math.max(this.minOutstanding, byRate));
  }

  /**
   * False when the gate already has its limit of sends outstanding; otherwise counts this one,
   * keyed by the request's seq (a second send under a seq still outstanding counts once).
   */
  admit(conn: SendHolder, seq: number, now: number): boolean {
    if (this.total >= this.limit(now)) return false;
    if (!conn.sendsOutstanding.has(seq)) this.total++;
    conn.sendsOutstanding.set(seq, now);
    return true;
  }

  /**
   * The answer (ack or refusal) to the send with this seq reached the connection, or its publish
   * failed. A second answer to the same send (a redelivered request is acked again) counts for
   * nothing: neither as another send done nor in the answer rate.
   */
  answered(conn: SendHolder, seq: number, now = Date.now()): void {
    if (!conn.sendsOutstanding.delete(seq)) return;
    this.total--;
    this.roll(now);
    this.windowAnswers++;
  }

  /** The connection is gone: none of its sends count any more. */
  released(conn: SendHolder): void {
    this.total -= conn.sendsOutstanding.size;
    conn.sendsOutstanding.clear();
  }

  /** Forgets sends older than `expireMs` (called by the gate's sweep). */
  expire(conn: SendHolder, now: number): void {
    // Insertion order is admission order: the oldest come first.
    for (const [seq, at] of conn.sendsOutstanding) {
      if (now - at <= this.expireMs) break;
      conn.sendsOutstanding.delete(seq);
      this.total--;
    }
  }

  /** Closes the rate window(s) that ended by `now`. */
  private roll(now: number): void {
    if (this.windowStart === undefined) {
      this.windowStart = now;
      return;
    }
    const elapsed = now - this.windowStart;
    if (elapsed < RATE_WINDOW_MS) return;
    const measured = (this.windowAnswers * 1000) / elapsed;
    // Half the weight on the newest window: a stall shows within a second or two.
    this.rate = this.rate === undefined ? measured : (this.rate + measured) / 2;
    this.windowStart = now;
    this.windowAnswers = 0;
  }
}
