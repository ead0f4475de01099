import { SendAdmission } from './send.admission';

/**
 * A gate offered `offered` sends per second while the cluster answers `capacity` per second,
 * oldest first, for `seconds`; 1 ms steps. Returns what the senders saw.
 */
function simulate(admission: SendAdmission, offered: number, capacity: number, seconds: number) {
  const conn = { sendsOutstanding: new Map<number, number>() };
  let seq = 0;
  let refused = 0;
  let admitted = 0;
  const waits: number[] = [];
  let offerDebt = 0;
  let answerDebt = 0;
  for (let now = 0; now < seconds * 1000; now++) {
    offerDebt += offered / 1000;
    for (; offerDebt >= 1; offerDebt--) {
      if (admission.admit(conn, ++seq, now)) admitted++;
      else refused++;
    }
    answerDebt += capacity / 1000;
    for (; answerDebt >= 1 && conn.sendsOutstanding.size > 0; answerDebt--) {
      const [oldest, at] = conn.sendsOutstanding.entries().next().value!;
      waits.push(now - at);
      admission.answered(conn, oldest, now);
    }
    if (conn.sendsOutstanding.size === 0) answerDebt = Math.min(answerDebt, 1);
  }
  const late = waits.slice(Math.floor(waits.length / 2)).sort((a, b) => a - b);
  return {
    refused,
    admitted,
    p99: late[Math.floor(late.length * 0.99)] ?? 0,
    outstanding: admission.outstanding,
  };
}

describe('SendAdmission', () => {
  it('under capacity - admits everything', () => {
    const r = simulate(new SendAdmission({ max: 8192, expireMs: 60_000, targetMs: 200 }), 800, 1000, 10);
    expect(r.refused).toBe(0);
    expect(r.admitted).toBe(8000);
  });

  it('twice the capacity - admitted sends wait about the target, the rest are refused at once', () => {
    const r = simulate(new SendAdmission({ max: 8192, expireMs: 60_000, targetMs: 200 }), 2000, 1000, 20);
    // The cluster keeps working at its capacity...
    expect(r.admitted).toBeGreaterThan(0.95 * 1000 * 20);
    // ...and what it admits waits about the target, not a growing backlog.
    expect(r.p99).toBeLessThanOrEqual(300);
    expect(r.refused).toBeGreaterThan(0.4 * 2000 * 20);
  });

  it('twice the capacity with only a count limit - every admitted send waits seconds (the old behaviour)', () => {
    const r = simulate(new SendAdmission({ max: 8192, expireMs: 60_000, targetMs: 0 }), 2000, 1000, 20);
    expect(r.p99).toBeGreaterThan(4000);
  });

  it('a stalled cluster - at most the minimum is admitted', () => {
    const admission = new SendAdmission({ max: 8192, expireMs: 60_000, targetMs: 200, minOutstanding: 50 });
    const r = simulate(admission, 1000, 0, 5);
    expect(r.admitted).toBe(50);
    expect(r.outstanding).toBe(50);
  });

  it('the count limit still caps a fast cluster', () => {
    const admission = new SendAdmission({ max: 100, expireMs: 60_000, targetMs: 10_000 });
    const r = simulate(admission, 5000, 1000, 5);
    expect(r.outstanding).toBeLessThanOrEqual(100);
    expect(admission.limit(5000)).toBe(100);
  });

  it('a second answer to the same send (a redelivered request acked again) counts for nothing', () => {
    const admission = new SendAdmission({ max: 8192, expireMs: 60_000, targetMs: 200 });
    const conn = { sendsOutstanding: new Map<number, number>() };
    expect(admission.admit(conn, 1, 0)).toBe(true);
    expect(admission.admit(conn, 2, 0)).toBe(true);
    admission.answered(conn, 1, 10);
    admission.answered(conn, 1, 11); // the duplicate
    expect(admission.outstanding).toBe(1);
    expect(conn.sendsOutstanding.has(2)).toBe(true);
    // Nor does it inflate the answer rate the limit is built from: one answer in the window.
    admission.answered(conn, 2, 600);
    expect(admission.outstanding).toBe(0);
    expect(admission.limit(1200)).toBe(256); // 2 answers over ~0.6 s x 200 ms is below the floor
  });

  it('expire forgets the oldest sends only; released forgets the connection', () => {
    const admission = new SendAdmission({ max: 8192, expireMs: 1000, targetMs: 0 });
    const conn = { sendsOutstanding: new Map<number, number>() };
    admission.admit(conn, 1, 0);
    admission.admit(conn, 2, 900);
    admission.expire(conn, 1500);
    expect([...conn.sendsOutstanding.keys()]).toEqual([2]);
    expect(admission.outstanding).toBe(1);
    admission.released(conn);
    expect(admission.outstanding).toBe(0);
  });
});
