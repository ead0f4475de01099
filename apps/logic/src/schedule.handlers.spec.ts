import pino from 'pino';
import { MemoryBus, type ReceivedMessage } from '@mqim/bus';
import { MemoryCache } from '@mqim/cache';
import { MqimMetrics } from '@mqim/metrics';
import { CIM, CommandId, MqNames, mqim } from '@mqim/protocol';
import { createSqliteStore, type Store } from '@mqim/store';
import { waitFor } from '@mqim/testing';
import { Logic } from './logic';

/**
 * Scheduling by clients (0x0860) in logic, on the in-process bus with a real (SQLite) store: a
 * client cannot schedule a server notice, and a redelivered create makes one message.
 */
describe('logic - scheduled messages from clients', () => {
  const names = new MqNames('schedh');
  let bus: MemoryBus;
  let store: Store;
  let logic: Logic;
  const frames: { connId: string; cmd: number; body: Uint8Array }[] = [];

  beforeEach(async () => {
    frames.length = 0;
    bus = new MemoryBus({ retryDelayMs: 20, logger: pino({ level: 'silent' }) });
    store = await createSqliteStore({ filename: ':memory:' });
    for (const [userId, nickName] of [
      [1, 'alice'],
      [2, 'bob'],
    ] as const)
      await store.users.create({ userId, nickName, userName: nickName });
    await bus.ensureTopics([...names.sharedTopics(), names.gateTopic('g1')]);
    await bus.ensureGroups([...names.sharedGroups(), names.gateGroupSpec('g1')]);
    await bus.subscribe(
      { topic: names.gate('g1'), group: names.gateGroup('g1') },
      async (m: ReceivedMessage) => {
        for (const c of mqim.v1.GateBatch.decode(m.body).commands)
          frames.push({ connId: c.connId ?? '', cmd: c.cmd ?? 0, body: c.body ?? new Uint8Array(0) });
      },
    );
    logic = new Logic(
      { topicPrefix: 'schedh', historyLimitMax: 100, maxMsgDataBytes: 1024, loginPolicy: 'many' },
      {
        bus,
        store,
        cache: new MemoryCache(),
        metrics: new MqimMetrics({ defaultMetrics: false }),
        logger: pino({ level: 'silent' }),
      },
    );
    await logic.start();
  });

  afterEach(async () => {
    await logic.stop();
    await bus.close();
    await store.close();
  });

  /** One client request as the gate sends it; publishing the same envelope again is a redelivery. */
  const envelope = (userId: number, seq: number, body: Uint8Array) =>
    mqim.v1.UpstreamRequest.encode({
      gateId: 'g1',
      connId: `c${userId}`,
      userId,
      cmd: CommandId.SCHEDULE_CREATE_REQ,
      seq,
      body,
      orderKey: `u${userId}`,
      receivedAtMs: Date.now(),
    }).finish();
  const publish = (userId: number, body: Uint8Array) =>
    bus.publish({ topic: names.upstream, messageGroup: `u${userId}`, body });
  const create = (msgType: number) =>
    CIM.Schedule.MqimScheduleCreateReq.encode({
      sessionType: 1,
      toSessionId: 2,
      msgType,
      msgData: Buffer.from('later'),
      sendAtMs: Date.now() + 60_000,
    }).finish();
  const answers = (cmd: number) => frames.filter((f) => f.connId === 'c1' && f.cmd === cmd);

  it('schedule - a client cannot schedule msg_type 9 (NOTIFICATION): refused as a send would be, nothing stored', async () => {
    await publish(1, envelope(1, 1, create(CIM.Def.CIMMsgType.MSG_TYPE_NOTIFICATION)));
    await waitFor(() => answers(CommandId.ERROR_NOTIFY).length === 1, { timeoutMs: 5000 });
    expect(CIM.Ext.MqimErrorNotify.decode(answers(CommandId.ERROR_NOTIFY)[0]!.body)).toMatchObject({
      errorName: 'IM_ERR_INVALID_ARGUMENT',
      text: 'msg_type 9 (NOTIFICATION) is sent by the server only',
    });
    expect(await store.schedules.countPending(1)).toBe(0);
  });

  it("schedule - a redelivered create (same request) answers the first one's row: one message, not two", async () => {
    const once = envelope(1, 7, create(CIM.Def.CIMMsgType.MSG_TYPE_TEXT));
    await publish(1, once);
    await waitFor(() => answers(CommandId.SCHEDULE_CREATE_RSP).length === 1, { timeoutMs: 5000 });
    await publish(1, once);
    await waitFor(() => answers(CommandId.SCHEDULE_CREATE_RSP).length === 2, { timeoutMs: 5000 });
    const ids = answers(CommandId.SCHEDULE_CREATE_RSP).map((f) =>
      Number(CIM.Schedule.MqimScheduleCreateRsp.decode(f.body).scheduled!.scheduleId),
    );
    expect(ids[0]).toBe(ids[1]);
    expect(await store.schedules.countPending(1)).toBe(1);
    // Another request (next seq) is another message.
    await publish(1, envelope(1, 8, create(CIM.Def.CIMMsgType.MSG_TYPE_TEXT)));
    await waitFor(() => answers(CommandId.SCHEDULE_CREATE_RSP).length === 3, { timeoutMs: 5000 });
    expect(await store.schedules.countPending(1)).toBe(2);
  });
});
