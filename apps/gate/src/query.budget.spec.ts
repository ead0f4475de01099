import { Connection, type FrameSink } from './connection';
import { CIM, CommandId } from '@mqim/protocol';
import { QueryBudget, answersQuery } from './query.budget';

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

describe('gate - which frames from logic answer a query', () => {
  const notice = (requestCmd: number) =>
    CIM.Ext.MqimErrorNotify.encode({ errorCode: 10201, errorName: 'IM_ERR_FORBIDDEN', requestCmd }).finish();

  it('a query response, or an error notice refusing a query', () => {
    expect(answersQuery(CommandId.LIST_MSG_RSP, new Uint8Array(0))).toBe(true);
    expect(answersQuery(CommandId.ERROR_NOTIFY, notice(CommandId.LIST_MSG_REQ))).toBe(true);
  });

  it('not an error notice refusing a send (it must not free a query slot), nor a delivery', () => {
    expect(answersQuery(CommandId.ERROR_NOTIFY, notice(CommandId.MSG_DATA))).toBe(false);
    expect(answersQuery(CommandId.ERROR_NOTIFY, Buffer.from([0xff, 0xff]))).toBe(false);
    expect(answersQuery(CommandId.MSG_DATA, new Uint8Array(0))).toBe(false);
  });
});
