import type { ContractFixture } from './fixture';

export function scheduleContract(fx: ContractFixture): void {
  describe('scheduled messages', () => {
    const make = (userId: number, to: number, sendAtMs: number) =>
      fx.store.schedules.create({
        userId,
        sessionType: 1,
        toSessionId: to,
        msgType: 1,
        msgData: Buffer.from('later'),
        sendAtMs,
      });

    it('schedules - create, list pending soonest first, reschedule bumps the version, cancel is owner-only', async () => {
      const [u, v] = fx.ids(2) as [number, number];
      const a = await make(u, v, fx.nowMs + 60_000);
      const b = await make(u, v, fx.nowMs + 30_000);
      expect(a).toMatchObject({ userId: u, toSessionId: v, status: 'pending', version: 1, armedVersion: 0 });
      expect(Buffer.from(a.msgData).toString()).toBe('later');
      expect((await fx.store.schedules.pendingOf(u, 10)).map((s) => s.scheduleId)).toEqual([
        b.scheduleId,
        a.scheduleId,
      ]);
      const moved = await fx.store.schedules.reschedule(a.scheduleId, u, fx.nowMs + 10_000);
      expect(moved).toMatchObject({ version: 2, sendAtMs: fx.nowMs + 10_000 });
      expect(await fx.store.schedules.reschedule(a.scheduleId, v, fx.nowMs)).toBe('not_found');
      expect(await fx.store.schedules.cancel(b.scheduleId, v)).toBe('not_found');
      expect(await fx.store.schedules.cancel(b.scheduleId, u)).toBe('done');
      expect(await fx.store.schedules.cancel(b.scheduleId, u)).toBe('done');
      expect((await fx.store.schedules.pendingOf(u, 10)).map((s) => s.scheduleId)).toEqual([a.scheduleId]);
      expect(await fx.store.schedules.countPending(u)).toBe(1);
      expect(await fx.store.schedules.countPending(v)).toBe(0);
    });

    it("schedules - a create with a request key the user already used returns that request's row; API rows are marked", async () => {
      const [u, v] = fx.ids(2) as [number, number];
      const base = { sessionType: 1 as const, toSessionId: v, msgType: 1, msgData: Buffer.from('x') };
      const first = await fx.store.schedules.create({
        ...base,
        userId: u,
        sendAtMs: fx.nowMs + 9_000,
        requestKey: 'rk-1',
      });
      const again = await fx.store.schedules.create({
        ...base,
        userId: u,
        sendAtMs: fx.nowMs + 9_000,
        requestKey: 'rk-1',
      });
      expect(again.scheduleId).toBe(first.scheduleId);
      expect(first).toMatchObject({ requestKey: 'rk-1', createdByApi: false });
      expect((await fx.store.schedules.byRequestKey(u, 'rk-1'))?.scheduleId).toBe(first.scheduleId);
      // Another user's key space; rows without a key never collide.
      const other = await fx.store.schedules.create({
        ...base,
        toSessionId: u,
        userId: v,
        sendAtMs: fx.nowMs + 9_000,
        requestKey: 'rk-1',
      });
      expect(other.scheduleId).not.toBe(first.scheduleId);
      const api1 = await fx.store.schedules.create({
        ...base,
        userId: u,
        sendAtMs: fx.nowMs + 9_000,
        createdByApi: true,
      });
      const api2 = await fx.store.schedules.create({
        ...base,
        userId: u,
        sendAtMs: fx.nowMs + 9_000,
        createdByApi: true,
      });
      expect(api1.scheduleId).not.toBe(api2.scheduleId);
      expect(api1).toMatchObject({ requestKey: '', createdByApi: true });
      expect(await fx.store.schedules.countPending(u)).toBe(3);
      expect(await fx.store.schedules.byRequestKey(u, 'rk-none')).toBeNull();
    });

    it('schedules - arming once per version; claim wins over cancel and a later reschedule; finish records the outcome', async () => {
      const [u, v] = fx.ids(2) as [number, number];
      const a = await make(u, v, fx.nowMs + 5_000);
      const due = await fx.store.schedules.toArm(fx.nowMs + 10_000, 1000);
      expect(due.map((s) => s.scheduleId)).toContain(a.scheduleId);
      expect(await fx.store.schedules.markArmed(a.scheduleId, 1)).toBe(true);
      expect(await fx.store.schedules.markArmed(a.scheduleId, 1)).toBe(false);
      expect(
        (await fx.store.schedules.toArm(fx.nowMs + 10_000, 1000)).map((s) => s.scheduleId),
      ).not.toContain(a.scheduleId);
      // A reschedule needs a new timer; the old version can no longer be claimed.
      await fx.store.schedules.reschedule(a.scheduleId, u, fx.nowMs + 6_000);
      expect((await fx.store.schedules.toArm(fx.nowMs + 10_000, 1000)).map((s) => s.scheduleId)).toContain(
        a.scheduleId,
      );
      expect(await fx.store.schedules.claim(a.scheduleId, 1)).toBe(false);
      expect(await fx.store.schedules.claim(a.scheduleId, 2)).toBe(true);
      // Claimed: too late to cancel or move; claiming again (a redelivered timer) resumes it.
      expect(await fx.store.schedules.cancel(a.scheduleId, u)).toBe('too_late');
      expect(await fx.store.schedules.reschedule(a.scheduleId, u, fx.nowMs)).toBe('too_late');
      expect(await fx.store.schedules.claim(a.scheduleId, 2)).toBe(true);
      await fx.store.schedules.finish(a.scheduleId, 2, { serverMsgId: 17 });
      expect(await fx.store.schedules.get(a.scheduleId)).toMatchObject({ status: 'sent', serverMsgId: 17 });
      expect(await fx.store.schedules.claim(a.scheduleId, 2)).toBe(false);
    });

    it('schedules - overdue finds pending and stuck firing messages not touched since; touch hides them', async () => {
      const [u, v] = fx.ids(2) as [number, number];
      const a = await make(u, v, fx.nowMs + 1_000);
      const b = await make(u, v, fx.nowMs + 1_000);
      await fx.store.schedules.claim(b.scheduleId, 1);
      fx.nowMs += 120_000;
      const late = (await fx.store.schedules.overdue(fx.nowMs - 30_000, 1000)).map((s) => s.scheduleId);
      expect(late).toEqual(expect.arrayContaining([a.scheduleId, b.scheduleId]));
      await fx.store.schedules.touch(a.scheduleId);
      expect(
        (await fx.store.schedules.overdue(fx.nowMs - 30_000, 1000)).map((s) => s.scheduleId),
      ).not.toContain(a.scheduleId);
      await fx.store.schedules.finish(b.scheduleId, 1, { error: 'IM_ERR_FORBIDDEN' });
      expect(await fx.store.schedules.get(b.scheduleId)).toMatchObject({
        status: 'failed',
        error: 'IM_ERR_FORBIDDEN',
      });
    });
  });
}
