import { DeliveryLedger } from './delivery.ledger';
import type { ImMessage } from './im.types';

const msg = (serverMsgId: number, sessionId = 2, sessionType = 1): ImMessage =>
  ({ serverMsgId, sessionId, sessionType, clientMsgId: `c${serverMsgId}` }) as ImMessage;

describe('DeliveryLedger - what the app was handed, per conversation', () => {
  it('admit - once per server_msg_id and conversation; the same id elsewhere is another message', () => {
    const ledger = new DeliveryLedger();
    expect(ledger.admit(msg(5))).toBe(true);
    expect(ledger.admit(msg(5))).toBe(false);
    expect(ledger.admit(msg(5, 3))).toBe(true);
    expect(ledger.admit(msg(5, 2, 2))).toBe(true);
    expect(ledger.admit(msg(4))).toBe(true); // older but never seen: a late push still counts
    expect(ledger.high(1, 2)).toBe(5);
    expect(ledger.high(1, 9)).toBeUndefined();
  });

  it('admit - a message without a server id is never taken for a duplicate', () => {
    const ledger = new DeliveryLedger();
    expect(ledger.admit(msg(0))).toBe(true);
    expect(ledger.admit(msg(0))).toBe(true);
  });

  it('admit - past 1,024 ids a conversation forgets the oldest, and counts anything older as seen', () => {
    const ledger = new DeliveryLedger();
    for (let id = 1; id <= 1100; id++) expect(ledger.admit(msg(id * 2))).toBe(true);
    expect(ledger.admit(msg(2))).toBe(false); // forgotten, below the kept window
    expect(ledger.admit(msg(3))).toBe(false); // never seen, but below the window: taken as seen
    expect(ledger.admit(msg(2201))).toBe(true); // inside the window, unseen
    expect(ledger.admit(msg(2200))).toBe(false);
  });

  it('admit - past 10,000 conversations the least recently active one is forgotten', () => {
    const ledger = new DeliveryLedger();
    ledger.admit(msg(1, 1));
    for (let peer = 2; peer <= 10_000; peer++) ledger.admit(msg(1, peer));
    ledger.admit(msg(2, 1)); // conversation 1 active again: now the most recent
    ledger.admit(msg(1, 10_001)); // one over: conversation 2, the least recently active, goes
    expect(ledger.high(1, 1)).toBe(2);
    expect(ledger.high(1, 2)).toBeUndefined();
    expect(ledger.high(1, 3)).toBe(1);
    expect(ledger.high(1, 10_001)).toBe(1);
  });

  it('own sends - remembered by clientMsgId, the oldest forgotten past 4,096', () => {
    const ledger = new DeliveryLedger();
    ledger.sent('a');
    expect(ledger.isOwn('a')).toBe(true);
    expect(ledger.isOwn('b')).toBe(false);
    for (let i = 0; i < 4096; i++) ledger.sent(`x${i}`);
    expect(ledger.isOwn('a')).toBe(false);
    expect(ledger.isOwn('x4095')).toBe(true);
  });
});
