import type { Connection } from './connection';

/**
 * Admission control for sends: how many messages this gate has handed to logic and not yet seen
 * answered (the sender's 0x0302). When logic or the store fall behind, that number grows with
 * the backlog; past `max` a new send is refused with IM_ERR_BUSY at once, so senders back off
 * and the cluster keeps delivering at its capacity instead of queueing every sender into
 * seconds of latency. An answer that never comes (its connection closed, a reply lost with a
 * dead gate topic) stops counting after `expireMs`.
 */
export class SendAdmission {
  private total = 0;

  constructor(
    private readonly max: number,
    private readonly expireMs: number,
  ) {}

  get outstanding(): number {
    return this.total;
  }

  /** False when the gate already has `max` sends outstanding; otherwise counts this one. */
  admit(conn: Connection, now: number): boolean {
    if (this.total >= this.max) return false;
    conn.sendsOutstanding.push(now);
    this.total++;
    return true;
  }

  /** The send's answer (ack or refusal) reached the connection, or its publish failed. */
  answered(conn: Connection): void {
    if (conn.sendsOutstanding.length === 0) return;
    conn.sendsOutstanding.shift();
    this.total--;
  }

  /** The connection is gone: none of its sends count any more. */
  released(conn: Connection): void {
    this.total -= conn.sendsOutstanding.length;
    conn.sendsOutstanding.length = 0;
  }

  /** Forgets sends older than `expireMs` (called by the gate's sweep). */
  expire(conn: Connection, now: number): void {
    const times = conn.sendsOutstanding;
    let n = 0;
    while (n < times.length && now - times[n]! > this.expireMs) n++;
    if (n > 0) {
      times.splice(0, n);
      this.total -= n;
    }
  }
}
