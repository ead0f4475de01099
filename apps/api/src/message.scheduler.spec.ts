import { MemoryBus } from '@mqim/bus';
import { createLogger } from '@mqim/config';
import { CIM, MqNames } from '@mqim/protocol';
import { createSqliteStore, type Store } from '@mqim/store';
import { waitFor } from '@mqim/testing';
import { MessageScheduler } from './message.scheduler';
import { UpstreamRefusedError, type UpstreamClient } from './upstream.client';

const names = new MqNames('sch');
const logger = createLogger('test', 'silent');

/**
 * The scheduler against the embedded bus and store, with logic replaced by a fake that stores by
 * client_msg_id like the real one: what matters is how often and when a message is handed over.
 */
describe('message scheduler - every scheduled message is sent once, at its time', () => {
  let bus: MemoryBus;
  let store: Store;
  let schedulers: MessageScheduler[];
  let sends: Array<{ clientMsgId: string; at: number; apiSender: boolean }>;
  let refuse: string | undefined;
  /** How many sends `refuse` refuses (then logic accepts again). */
  let refuseTimes = Infinity;
  const stored = new Map<string, number>();
  const upstream = {
    sendMessage: async (
      _userId: number,
      msg: CIM.Message.ICIMMsgData,
      _orderKey: string,
      _systemSender: boolean,
      apiSender: boolean,
    ) => {
      sends.push({ clientMsgId: msg.clientMsgId!, at: Date.now(), apiSender });
      if (refuse && refuseTimes-- > 0) throw new UpstreamRefusedError(refuse, 'refused');
      // The store's unique (sender, client_msg_id): a second send answers the first id.
      if (!stored.has(msg.clientMsgId!)) stored.set(msg.clientMsgId!, stored.size + 1);
      return { serverMsgId: stored.get(msg.clientMsgId!)! } as unknown as CIM.Message.CIMMsgDataAck;
    },
  } as unknown as UpstreamClient;
  const make = (o: Partial<{ armWithinMs: number; graceMs: number }> = {}) => {
    const s = new MessageScheduler(
      { bus, store, names, upstream, logger },
      { armWithinMs: 60_000, scanMs: 100, graceMs: 60_000, ...o },
    );
    schedulers.push(s);
    return s;
  };
  const msg = (sendAtMs: number) => ({
    userId: 3,
    sessionType: 1 as const,
    toSessionId: 4,
    msgType: 1,
    msgData: Buffer.from('later'),
    sendAtMs,
  });

  beforeEach(async () => {
    bus = new MemoryBus();
    store = await createSqliteStore({ filename: ':memory:' });
    schedulers = [];
    sends = [];
    refuse = undefined;
    refuseTimes = Infinity;
    stored.clear();
  });
  afterEach(async () => {
    for (const s of schedulers) await s.stop();
    await bus.close();
    await store.close();
  });

  it('scheduler - two api processes: each message is armed once, sent at its time, once', async () => {
    const a = make();
    const b = make();
    await a.start();
    await b.start();
    const now = Date.now();
    const rows = await Promise.all([a.schedule(msg(now + 400)), b.schedule(msg(now + 700))]);
    await waitFor(async () => (await store.schedules.get(rows[1]!.scheduleId))?.status === 'sent', {
      timeoutMs: 10_000,
    });
    await waitFor(async () => (await store.schedules.get(rows[0]!.scheduleId))?.status === 'sent', {
      timeoutMs: 10_000,
    });
    expect(sends.map((s) => s.clientMsgId).sort()).toEqual(rows.map((r) => `sch-${r.scheduleId}`).sort());
    expect(sends.find((s) => s.clientMsgId === `sch-${rows[0]!.scheduleId}`)!.at).toBeGreaterThanOrEqual(
      now + 400,
    );
  });

  it('scheduler - far ahead waits in the store and is armed when within range; a rescheduled or cancelled one is not sent', async () => {
    const s = make({ armWithinMs: 500 });
    await s.start();
    const now = Date.now();
    const far = await s.schedule(msg(now + 1_200));
    const moved = await s.schedule(msg(now + 300));
    const gone = await s.schedule(msg(now + 300));
    await s.scanSoon();
    expect((await store.schedules.get(far.scheduleId))!.armedVersion).toBe(0);
    await s.reschedule(moved.scheduleId, 3, now + 900);
    await store.schedules.cancel(gone.scheduleId, 3);
    await waitFor(async () => (await store.schedules.get(far.scheduleId))?.status === 'sent', {
      timeoutMs: 10_000,
    });
    await waitFor(async () => (await store.schedules.get(moved.scheduleId))?.status === 'sent', {
      timeoutMs: 10_000,
    });
    // The moved one went once (its version-1 timer was ignored); the cancelled one never.
    expect(sends.filter((x) => x.clientMsgId === `sch-${moved.scheduleId}`)).toHaveLength(1);
    expect(sends.find((x) => x.clientMsgId === `sch-${moved.scheduleId}`)!.at).toBeGreaterThanOrEqual(
      now + 900,
    );
    expect(sends.some((x) => x.clientMsgId === `sch-${gone.scheduleId}`)).toBe(false);
  });

  it('scheduler - a lost timer (armed, never fired) and a sender that died mid-send are fired again once late; stored once', async () => {
    const now = Date.now();
    // Armed by a process whose timer the broker lost: marked armed, nothing on the bus.
    const lost = await store.schedules.create(msg(now - 5_000));
    await store.schedules.markArmed(lost.scheduleId, 1);
    // Claimed by a process that died before it finished (and, say, after logic stored it).
    const dying = await store.schedules.create(msg(now - 5_000));
    await store.schedules.claim(dying.scheduleId, 1);
    stored.set(`sch-${dying.scheduleId}`, 99);
    const s = make({ graceMs: 1_000 });
    await s.start();
    await waitFor(async () => (await store.schedules.get(lost.scheduleId))?.status === 'sent', {
      timeoutMs: 10_000,
    });
    await waitFor(async () => (await store.schedules.get(dying.scheduleId))?.status === 'sent', {
      timeoutMs: 10_000,
    });
    // The dying one was handed over again and answered with the id it was stored under.
    expect((await store.schedules.get(dying.scheduleId))!.serverMsgId).toBe(99);
    expect(stored.size).toBe(2);
  });

  it('scheduler - a message logic refuses at send time is failed with the code, not retried', async () => {
    const s = make();
    await s.start();
    refuse = 'IM_ERR_FORBIDDEN';
    const row = await s.schedule(msg(Date.now() + 100));
    await waitFor(async () => (await store.schedules.get(row.scheduleId))?.status === 'failed', {
      timeoutMs: 10_000,
    });
    expect((await store.schedules.get(row.scheduleId))!.error).toBe('IM_ERR_FORBIDDEN');
    expect(sends).toHaveLength(1);
  });

  it('scheduler - a transient refusal (IM_ERR_UNAVAILABLE: the before-send hook down) is not final: the message is sent later', async () => {
    const s = make({ graceMs: 1_000 });
    await s.start();
    refuse = 'IM_ERR_UNAVAILABLE';
    refuseTimes = 1;
    const row = await s.schedule(msg(Date.now() + 100));
    await waitFor(async () => (await store.schedules.get(row.scheduleId))?.status === 'sent', {
      timeoutMs: 15_000,
    });
    expect(sends.length).toBeGreaterThanOrEqual(2);
    expect((await store.schedules.get(row.scheduleId))!.error).toBe('');
  });

  it("scheduler - only the API's own rows are sent as the api's; a client's row is sent as a client's (no forged notices)", async () => {
    const s = make();
    await s.start();
    const now = Date.now();
    const api = await s.schedule({ ...msg(now + 100), createdByApi: true });
    const client = await s.schedule(msg(now + 100));
    for (const r of [api, client])
      await waitFor(async () => (await store.schedules.get(r.scheduleId))?.status === 'sent', {
        timeoutMs: 10_000,
      });
    const sentAs = (id: number) => sends.find((x) => x.clientMsgId === `sch-${id}`)!.apiSender;
    expect(sentAs(api.scheduleId)).toBe(true);
    expect(sentAs(client.scheduleId)).toBe(false);
  });
});
