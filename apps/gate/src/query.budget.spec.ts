import { Connection, type FrameSink } from './connection';
import { QueryBudget } from './query.budget';

function conn(pending = 0): Connection {
  const sink: FrameSink = { write: () => undefined, pendingBytes: () => pending, close: () => undefined };
  return new Connection('c1', 'tcp', '127.0.0.1:1', sink, { perSecond: 100, burst: 100 }, 0);
}

const options = {
  maxInFlight: 2,
  bytesPerSec: 1000,
  burstBytes: 2000,
  maxUnreadBytes: 500,
  expireMs: 30_000,
};

describe('QueryBudget', () => {
  it('in flight - a third query waits for an answer', () => {
    const budget = new QueryBudget(options);
    const c = conn();
    expect(budget.admit(c, 1)).toBeUndefined();
    expect(budget.admit(c, 1)).toBeUndefined();
    expect(budget.admit(c, 1)).toBe('in-flight');
    budget.answered(c, 10, 2);
    expect(budget.admit(c, 2)).toBeUndefined();
  });

  it('bytes - a large reply spends the budget until it refills at the configured rate', () => {
    const budget = new QueryBudget(options);
    const c = conn();
    expect(budget.admit(c, 1000)).toBeUndefined();
    budget.answered(c, 5000, 1000);
    expect(budget.admit(c, 1000)).toBe('bytes');
    // 3000 bytes in debt: three seconds at 1000 B/s, then some.
    expect(budget.admit(c, 3999)).toBe('bytes');
    expect(budget.admit(c, 4100)).toBeUndefined();
  });

  it('unread - a client that has not read its earlier replies is refused', () => {
    expect(new QueryBudget(options).admit(conn(501), 1)).toBe('unread');
  });

  it('expire - an answer that never comes stops counting', () => {
    const budget = new QueryBudget(options);
    const c = conn();
    budget.admit(c, 1);
    budget.admit(c, 1);
    budget.expire(c, 40_000);
    expect(budget.admit(c, 40_000)).toBeUndefined();
  });
});
