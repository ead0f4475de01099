import { UserSendLimiter } from './user-send.limiter';

describe('gate - sends per user across connections', () => {
  it('allows the burst, then the sustained rate, per user', () => {
    const limiter = new UserSendLimiter(10, 5);
    let allowed = 0;
    for (let i = 0; i < 20; i++) if (limiter.take(1, 0)) allowed++;
    expect(allowed).toBe(5);
    // Another user has a bucket of their own.
    expect(limiter.take(2, 0)).toBe(true);
    // 10/s: after 300 ms three more.
    allowed = 0;
    for (let i = 0; i < 20; i++) if (limiter.take(1, 300)) allowed++;
    expect(allowed).toBe(3);
  });

  it('forgets users whose bucket is full again, keeps the others', () => {
    const limiter = new UserSendLimiter(10, 5);
    for (let i = 0; i < 5; i++) limiter.take(1, 0);
    for (let i = 0; i < 3; i++) limiter.take(2, 400); // 2 tokens left at 400 ms
    limiter.sweep(450);
    expect(limiter.tracked).toBe(2);
    limiter.sweep(600); // user 1 refilled 5 tokens by 500 ms; user 2 still owes
    expect(limiter.tracked).toBe(1);
    limiter.sweep(1_000);
    expect(limiter.tracked).toBe(0);
  });

  it('0 per second turns the limit off', () => {
    const limiter = new UserSendLimiter(0, 0);
    for (let i = 0; i < 1000; i++) expect(limiter.take(1, 0)).toBe(true);
    expect(limiter.tracked).toBe(0);
  });
});
