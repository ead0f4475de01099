import type { CallRecord } from './cache.port';
import { MemoryCallRegistry } from './memory-call.registry';

const call = (creatorId: number, calleeId: number): CallRecord => ({
  creatorId,
  calleeId,
  callType: 2,
  channelName: `021-${calleeId}-1`,
  channelToken: '',
  startedAt: 1_000,
  answeredAt: 0,
  endedAt: 0,
  endedBy: 0,
});

describe('MemoryCallRegistry - memory', () => {
  it('calls - expired calls of creators never looked up again are swept on later opens', async () => {
    let now = 0;
    const calls = new MemoryCallRegistry(
      () => undefined,
      () => now,
      10,
    );
    // 50 calls between distinct users, never looked up again, all expire after 1 s.
    for (let i = 0; i < 50; i++) expect(await calls.open(call(1_000 + i, 2_000 + i), 1_000)).toBe(true);
    expect(calls.size).toBe(50);
    now = 5_000;
    // Ten more opens by other users: the sweep drops every expired call.
    for (let i = 0; i < 10; i++) expect(await calls.open(call(3_000 + i, 4_000 + i), 1_000)).toBe(true);
    expect(calls.size).toBeLessThanOrEqual(10);
    // Live calls are kept, and their parties are still busy.
    expect(await calls.liveOf(3_009)).toMatchObject({ creatorId: 3_009 });
    expect(await calls.open(call(5_000, 4_009), 1_000)).toBe(false);
    // Expired parties are free again.
    expect(await calls.open(call(2_000, 1_000), 1_000)).toBe(true);
  });
});
