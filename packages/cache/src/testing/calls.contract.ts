import type { CallRecord } from '../cache.port';
import { sleep, type FixtureRef } from './cache.contract';

const call = (creatorId: number, calleeId: number, channelName = `021-${calleeId}-1`): CallRecord => ({
  creatorId,
  calleeId,
  callType: 2,
  channelName,
  channelToken: '',
  startedAt: 1_000,
  answeredAt: 0,
  endedAt: 0,
  endedBy: 0,
});
const ENDED = { onlyUnanswered: false, endedTtlMs: 60_000 };

export function describeCallContract(fixture: FixtureRef): void {
  describe('calls', () => {
    it('calls - one live call per user: a party of a call cannot be invited or invite', async () => {
      const { calls } = fixture().cache;
      expect(await calls.open(call(1, 2), 60_000)).toBe(true);
      expect(await calls.open(call(3, 2), 60_000)).toBe(false);
      expect(await calls.open(call(2, 4), 60_000)).toBe(false);
      expect(await calls.open(call(4, 1), 60_000)).toBe(false);
      expect(await calls.open(call(3, 4), 60_000)).toBe(true);
      expect(await calls.get(1)).toMatchObject({ creatorId: 1, calleeId: 2, callType: 2, answeredAt: 0 });
    });

    it('calls - liveOf finds the live call of either party, and nothing once it ended', async () => {
      const { calls } = fixture().cache;
      await calls.open(call(1, 2, 'ch'), 60_000);
      expect(await calls.liveOf(1)).toMatchObject({ creatorId: 1, calleeId: 2, channelName: 'ch' });
      expect(await calls.liveOf(2)).toMatchObject({ creatorId: 1, channelName: 'ch' });
      expect(await calls.liveOf(3)).toBeUndefined();
      await calls.end(1, 'ch', 2, 7_000, ENDED);
      expect(await calls.liveOf(1)).toBeUndefined();
      expect(await calls.liveOf(2)).toBeUndefined();
    });

    it('calls - racing invites that share a party: exactly one opens', async () => {
      const { calls } = fixture().cache;
      const opened = await Promise.all([5, 6, 7, 8].map((c) => calls.open(call(c, 9), 60_000)));
      expect(opened.filter(Boolean)).toHaveLength(1);
    });

    it('calls - answer is recorded once and only for the named channel', async () => {
      const { calls } = fixture().cache;
      await calls.open(call(1, 2, 'ch-a'), 60_000);
      expect(await calls.answer(1, 'ch-b', 5_000, 60_000)).toBeUndefined();
      expect(await calls.answer(1, 'ch-a', 5_000, 60_000)).toMatchObject({ answeredAt: 5_000 });
      expect(await calls.answer(1, 'ch-a', 9_000, 60_000)).toMatchObject({ answeredAt: 5_000 });
      expect(await calls.answer(77, 'ch-a', 5_000, 60_000)).toBeUndefined();
    });

    it('calls - end happens once: a retry or the other party gets the same end back; both are free', async () => {
      const { calls } = fixture().cache;
      await calls.open(call(1, 2, 'ch'), 60_000);
      expect(await calls.end(1, 'other', 2, 7_000, ENDED)).toBeUndefined();
      const first = await calls.end(1, 'ch', 2, 7_000, ENDED);
      expect(first).toMatchObject({ endedAt: 7_000, endedBy: 2 });
      expect(await calls.end(1, 'ch', 1, 8_000, ENDED)).toMatchObject({ endedAt: 7_000, endedBy: 2 });
      expect(await calls.answer(1, 'ch', 9_000, 60_000)).toBeUndefined();
      expect(await calls.touch(1, 60_000)).toBe(false);
      expect(await calls.open(call(2, 1, 'again'), 60_000)).toBe(true);
    });

    it('calls - an answered call is not ended by the unanswered-invite timeout', async () => {
      const { calls } = fixture().cache;
      await calls.open(call(1, 2, 'ch'), 60_000);
      await calls.answer(1, 'ch', 5_000, 60_000);
      expect(await calls.end(1, 'ch', 0, 6_000, { ...ENDED, onlyUnanswered: true })).toBeUndefined();
      await calls.open(call(3, 4, 'ch2'), 60_000);
      expect(await calls.end(3, 'ch2', 0, 6_000, { ...ENDED, onlyUnanswered: true })).toMatchObject({
        endedBy: 0,
      });
    });

    it('calls - a call nobody refreshes expires and frees its parties; touch keeps it', async () => {
      const { calls } = fixture().cache;
      await calls.open(call(1, 2), 150);
      await calls.open(call(3, 4), 150);
      for (let i = 0; i < 4; i++) {
        await sleep(60);
        expect(await calls.touch(4, 150)).toBe(true);
      }
      expect(await calls.get(1)).toBeUndefined();
      expect(await calls.touch(1, 150)).toBe(false);
      expect(await calls.open(call(2, 1), 60_000)).toBe(true);
      expect(await calls.get(3)).toBeDefined();
    });

    it('calls - refuses a call with one party or out-of-range ids', async () => {
      const { calls } = fixture().cache;
      await expect(calls.open(call(1, 1), 1_000)).rejects.toMatchObject({
        code: 'IM_ERR_CACHE_INVALID_ARGUMENT',
      });
      await expect(calls.open(call(-1, 2), 1_000)).rejects.toThrow();
      await expect(calls.get(2 ** 60)).rejects.toThrow();
    });
  });
}
