import pino from 'pino';
import { MemoryBus, type OutgoingMessage } from '@mqim/bus';
import { MemoryCache } from '@mqim/cache';
import { MqimMetrics } from '@mqim/metrics';
import { CIM, CommandId, ImErrorNumber, MqNames, mqim } from '@mqim/protocol';
import { createSqliteStore, type Store } from '@mqim/store';
import { waitFor } from '@mqim/testing';
import { Logic } from './logic';

/**
 * Errors are classified where they enter (issue 15 #2, docs/adr/0008): a body that does not
 * decode is the client's (answered once, never retried); a TypeError from our own code is a bug —
 * never answered as bad input, retried, and dead-lettered loudly when it keeps failing.
 */
describe('logic - server bugs are retried and dead-lettered, never answered as client errors', () => {
  const names = new MqNames('fault');
  let bus: MemoryBus;
  let logic: Logic;
  let metrics: MqimMetrics;
  let bug: { left: number };
  const sent: { cmd: number; body: Uint8Array }[] = [];
  const busLogs: { level: number; msg: string }[] = [];

  beforeEach(async () => {
    sent.length = 0;
    busLogs.length = 0;
    bug = { left: 0 };
    const busLogger = pino(
      { level: 'warn' },
      { write: (line: string) => void busLogs.push(JSON.parse(line)) },
    );
    bus = new MemoryBus({ retryDelayMs: 5, logger: busLogger });
    const real = await createSqliteStore({ filename: ':memory:' });
    // A handler bug as the store sees it: code that reads a field of undefined.
    const users = Object.assign(Object.create(real.users) as Store['users'], {
      findMany: async (ids: readonly number[]) => {
        if (bug.left > 0) {
          bug.left--;
          const none = undefined as unknown as { groupId: number };
          return [none.groupId] as never;
        }
        return real.users.findMany(ids);
      },
    });
    const store = Object.assign(Object.create(real) as Store, { users });
    for (let u = 1; u <= 3; u++) await real.users.create({ userId: u, nickName: `u${u}` });
    const publish = bus.publish.bind(bus);
    bus.publish = async (m: OutgoingMessage) => {
      const id = await publish(m);
      if (m.topic === names.gate('g1'))
        for (const c of mqim.v1.GateBatch.decode(m.body).commands)
          sent.push({ cmd: c.cmd ?? 0, body: c.body ?? new Uint8Array(0) });
      return id;
    };
    await bus.ensureTopics([...names.sharedTopics(), names.gateTopic('g1')]);
    await bus.ensureGroups([...names.sharedGroups(), names.gateGroupSpec('g1')]);
    metrics = new MqimMetrics({ defaultMetrics: false });
    logic = new Logic(
      { topicPrefix: 'fault', historyLimitMax: 100, maxMsgDataBytes: 1024, loginPolicy: 'many' },
      { bus, store, cache: new MemoryCache(), metrics, logger: pino({ level: 'silent' }) },
    );
    await logic.start();
  });

  afterEach(async () => {
    await logic.stop();
    await bus.close();
  });

  const createGroup = (body: Uint8Array) =>
    bus.publish({
      topic: names.upstream,
      messageGroup: 'u1',
      body: mqim.v1.UpstreamRequest.encode({
        gateId: 'g1',
        connId: 'c1',
        userId: 1,
        cmd: CommandId.GROUP_CREATE_DEFAULT_REQ,
        seq: 3,
        body,
        orderKey: 'u1',
        receivedAtMs: Date.now(),
      }).finish(),
    });
  const validCreate = CIM.Group.CIMGroupCreateReq.encode({
    userId: 1,
    groupName: 'team',
    memberIdList: [2],
  }).finish();
  const consumed = async (result: string) =>
    (await metrics.consumed.get()).values.find(
      (v) => v.labels.topic === 'upstream' && v.labels.result === result,
    )?.value ?? 0;

  it('bug - a TypeError is not answered as bad input; the request comes back and succeeds once the bug is gone', async () => {
    bug.left = 2;
    await createGroup(validCreate);
    await waitFor(async () => (await consumed('ok')) === 1, { timeoutMs: 3000, message: 'never handled' });
    expect(await consumed('retry')).toBe(2);
    expect(await consumed('refused')).toBe(0);
    // Exactly one answer, the success; no error notice or refused result went out for the bug.
    expect(sent.map((s) => s.cmd)).toEqual([CommandId.GROUP_CREATE_DEFAULT_RSP]);
    expect(CIM.Group.CIMGroupCreateRsp.decode(sent[0]!.body).resultCode).toBe(200);
  });

  it('bug - a request that keeps hitting a bug is dead-lettered and logged as an error, never answered', async () => {
    bug.left = Number.MAX_SAFE_INTEGER;
    await createGroup(validCreate);
    await waitFor(() => bus.deadLetters(names.upstream, names.logicGroup).length === 1, {
      timeoutMs: 5000,
      message: 'not dead-lettered',
    });
    expect(busLogs.some((l) => l.level === 50 && /dead-lettered/.test(l.msg))).toBe(true);
    expect(await consumed('refused')).toBe(0);
    expect(sent).toEqual([]);
  });

  it('client - a body that does not decode is answered IM_ERR_BAD_BODY once and never retried', async () => {
    await createGroup(Buffer.from([0x0a, 0xff, 0xff]));
    await waitFor(async () => (await consumed('refused')) === 1, { timeoutMs: 3000 });
    expect(await consumed('retry')).toBe(0);
    expect(sent.map((s) => s.cmd)).toEqual([CommandId.ERROR_NOTIFY]);
    const notice = CIM.Ext.MqimErrorNotify.decode(sent[0]!.body);
    expect([notice.errorCode, notice.errorName, notice.requestCmd, notice.requestSeq]).toEqual([
      ImErrorNumber.IM_ERR_BAD_BODY,
      'IM_ERR_BAD_BODY',
      CommandId.GROUP_CREATE_DEFAULT_REQ,
      3,
    ]);
  });
});
