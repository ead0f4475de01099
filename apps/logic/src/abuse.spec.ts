import pino from 'pino';
import { MemoryBus, type ReceivedMessage } from '@mqim/bus';
import { MemoryCache } from '@mqim/cache';
import { MqimMetrics } from '@mqim/metrics';
import { CIM, CimErrorCode, CommandId, ImErrorNumber, MqNames, decodeIntents, mqim } from '@mqim/protocol';
import { createSqliteStore, type Store } from '@mqim/store';
import { waitFor } from '@mqim/testing';
import { Logic } from './logic';
import type { LogicOptions } from './logic-deps';

/**
 * Hostile requests from issue 10, each beside a well-behaved user (2 -> 1) who must still be
 * served. Logic runs on the in-process bus with a real (SQLite) store.
 */
describe('logic - abusive requests', () => {
  const names = new MqNames('abuse');
  let bus: MemoryBus;
  let store: Store;
  let logic: Logic;
  let upstreamDeliveries: number;
  /** Upstream messages whose handling resolved (acked) and rejected (to be redelivered). */
  let upstreamAcked: number;
  let upstreamFailed: number;
  const frames: { connId: string; cmd: number; body: Uint8Array }[] = [];
  const deliveries: { userIds: number[]; cmd: number; body: Uint8Array }[] = [];

  async function start(options: Partial<LogicOptions> = {}) {
    bus = new MemoryBus({ retryDelayMs: 20, logger: pino({ level: 'silent' }) });
    store = await createSqliteStore({ filename: ':memory:' });
    for (const [userId, nickName] of [
      [1, 'alice'],
      [2, 'bob'],
      [3, 'carol'],
      [4, 'dave'],
    ] as const)
      await store.users.create({ userId, nickName, userName: nickName });
    await store.tokens.issue(2, 'bob-token');
    await bus.ensureTopics([...names.sharedTopics(), names.gateTopic('g1')]);
    await bus.ensureGroups([...names.sharedGroups(), names.gateGroupSpec('g1')]);
    await bus.subscribe(
      { topic: names.gate('g1'), group: names.gateGroup('g1') },
      async (m: ReceivedMessage) => {
        for (const c of mqim.v1.GateBatch.decode(m.body).commands)
          frames.push({ connId: c.connId ?? '', cmd: c.cmd ?? 0, body: c.body ?? new Uint8Array(0) });
      },
    );
    await bus.subscribe(
      { topic: names.deliver, group: names.jobDeliverGroup },
      async (m: ReceivedMessage) => {
        for (const i of decodeIntents(m.body, m.tag))
          deliveries.push({ userIds: i.userIds.map(Number), cmd: i.cmd, body: i.body });
      },
    );
    logic = new Logic(
      { topicPrefix: 'abuse', historyLimitMax: 100, maxMsgDataBytes: 1024, loginPolicy: 'many', ...options },
      {
        bus,
        store,
        cache: new MemoryCache(),
        metrics: new MqimMetrics({ defaultMetrics: false }),
        logger: pino({ level: 'silent' }),
      },
    );
    // Counts how often the bus hands logic an upstream message: a redelivery shows up here.
    const onUpstream = (logic as unknown as { onUpstream: (m: ReceivedMessage[]) => Promise<void> })
      .onUpstream;
    upstreamDeliveries = 0;
    upstreamAcked = 0;
    upstreamFailed = 0;
    (logic as unknown as { onUpstream: typeof onUpstream }).onUpstream = function (this: Logic, m) {
      upstreamDeliveries += m.length;
      return onUpstream.call(this, m).then(
        () => void (upstreamAcked += m.length),
        (err: unknown) => {
          upstreamFailed += m.length;
          throw err;
        },
      );
    };
    await logic.start();
  }

  beforeEach(() => {
    frames.length = 0;
    deliveries.length = 0;
  });
  afterEach(async () => {
    await logic.stop();
    await bus.close();
    await store.close();
  });

  const publish = (
    userId: number,
    connId: string,
    cmd: number,
    body: Uint8Array,
    orderKey = `${cmd}:${connId}`,
  ) =>
    bus.publish({
      topic: names.upstream,
      messageGroup: orderKey,
      body: mqim.v1.UpstreamRequest.encode({
        gateId: 'g1',
        connId,
        userId,
        cmd,
        seq: 7,
        body,
        orderKey,
        receivedAtMs: Date.now(),
      }).finish(),
    });

  const send = (
    from: number,
    to: number,
    clientMsgId: string,
    text: string,
    extra: Partial<CIM.Message.ICIMMsgData> = {},
  ) =>
    publish(
      from,
      `c${from}`,
      CommandId.MSG_DATA,
      CIM.Message.CIMMsgData.encode({
        fromUserId: from,
        toSessionId: to,
        clientMsgId,
        msgType: 1,
        sessionType: 1,
        msgData: Buffer.from(text),
        ...extra,
      }).finish(),
      `s:${Math.min(from, to)}:${Math.max(from, to)}`,
    );

  const acksOf = (connId: string) =>
    frames
      .filter((f) => f.connId === connId && f.cmd === CommandId.MSG_DATA_ACK)
      .map((f) => CIM.Message.CIMMsgDataAck.decode(f.body));
  const errorsOf = (connId: string) =>
    frames
      .filter((f) => f.connId === connId && f.cmd === CommandId.ERROR_NOTIFY)
      .map((f) => CIM.Ext.MqimErrorNotify.decode(f.body));
  const messagesTo = (userId: number) =>
    deliveries
      .filter((d) => d.cmd === CommandId.MSG_DATA && d.userIds.includes(userId))
      .map((d) => CIM.Message.CIMMsgData.decode(d.body))
      .filter((m) => Number(m.fromUserId) !== userId); // not the copies for the sender's devices
  const okAcks = (connId: string) =>
    acksOf(connId).filter((a) => a.resCode === CIM.Def.CIMResCode.RES_CODE_OK).length;

  it('login - a body that is not protobuf is answered once as the client error, never redelivered', async () => {
    await start();
    // Field 1 with wire type 7, which protobuf does not have.
    await publish(0, 'evil', CommandId.LOGIN_AUTH_TOKEN_REQ, Uint8Array.from([0x0f, 0x01, 0x02]));
    await publish(0, 'evil2', CommandId.LOGIN_AUTH_REQ, Uint8Array.from([0x0f, 0x01, 0x02]));
    await publish(
      0,
      'bob',
      CommandId.LOGIN_AUTH_TOKEN_REQ,
      CIM.Login.CIMAuthTokenReq.encode({ userId: 2, userToken: 'bob-token', clientType: 1 }).finish(),
    );
    await waitFor(
      () =>
        frames.filter((f) => f.cmd === CommandId.LOGIN_AUTH_TOKEN_RSP || f.cmd === CommandId.LOGIN_AUTH_RSP)
          .length >= 3,
      {
        timeoutMs: 2000,
        message: 'not every login was answered',
      },
    );
    // Each message acked: nothing is left to redeliver (a rejected one would be retried).
    await waitFor(() => upstreamAcked + upstreamFailed >= 3, { timeoutMs: 2000, message: 'not settled' });
    expect(upstreamFailed).toBe(0);
    const rsp = (connId: string) =>
      frames
        .filter((f) => f.connId === connId)
        .map((f) => CIM.Login.CIMAuthTokenRsp.decode(f.body).resultCode);
    expect(rsp('evil')).toEqual([CimErrorCode.USER_INVALID_PARAMETER]);
    expect(rsp('evil2')).toEqual([CimErrorCode.USER_INVALID_PARAMETER]);
    expect(rsp('bob')).toEqual([CimErrorCode.SUCCESS]);
    expect(upstreamDeliveries).toBe(3);
  });

  it('send - a client_msg_id reused for another conversation is refused, never delivered to it', async () => {
    await start();
    await send(1, 3, 'm-1', 'for carol only');
    await waitFor(() => okAcks('c1') === 1, { timeoutMs: 2000 });
    await send(1, 4, 'm-1', 'for dave');
    await send(2, 1, 'b-1', 'hello alice');
    await waitFor(() => acksOf('c1').length === 2 && okAcks('c2') === 1, { timeoutMs: 2000 });
    expect(acksOf('c1')[1]).toMatchObject({
      clientMsgId: 'm-1',
      resCode: CIM.Def.CIMResCode.RES_CODE_UNKNOWN,
    });
    expect(errorsOf('c1').map((e) => e.errorCode)).toEqual([ImErrorNumber.IM_ERR_DUPLICATE_MISMATCH]);
    expect(messagesTo(4)).toHaveLength(0);
    expect(messagesTo(3).map((m) => Buffer.from(m.msgData).toString())).toEqual(['for carol only']);
    expect(messagesTo(1).map((m) => Buffer.from(m.msgData).toString())).toEqual(['hello alice']);
  });

  it('send - a client_msg_id reused with other content in the same conversation is refused', async () => {
    await start();
    await send(1, 3, 'm-2', 'first');
    await waitFor(() => okAcks('c1') === 1, { timeoutMs: 2000 });
    await send(1, 3, 'm-2', 'second');
    await waitFor(() => acksOf('c1').length === 2, { timeoutMs: 2000 });
    expect(acksOf('c1')[1]!.resCode).toBe(CIM.Def.CIMResCode.RES_CODE_UNKNOWN);
    expect(messagesTo(3).map((m) => Buffer.from(m.msgData).toString())).toEqual(['first']);
  });

  it('send - an exact retry is still acked with the stored id and delivered again', async () => {
    await start();
    await send(1, 3, 'm-3', 'same');
    await waitFor(() => okAcks('c1') === 1, { timeoutMs: 2000 });
    await send(1, 3, 'm-3', 'same');
    await waitFor(() => okAcks('c1') === 2, { timeoutMs: 2000 });
    const [a, b] = acksOf('c1');
    expect(b!.serverMsgId).toEqual(a!.serverMsgId);
    expect(errorsOf('c1')).toHaveLength(0);
  });

  it('send - a retry, and one reused for another conversation, burn no id: the next message follows without a hole', async () => {
    await start();
    await send(1, 3, 'r-1', 'first');
    await waitFor(() => okAcks('c1') === 1, { timeoutMs: 2000 });
    await send(1, 3, 'r-1', 'first'); // the client's own retry: a first broker attempt
    await send(1, 2, 'r-1', 'meant for bob'); // refused; must not cost bob's chat an id either
    await send(1, 3, 'r-2', 'second');
    await send(1, 2, 'r-3', 'to bob');
    await waitFor(() => okAcks('c1') === 4, { timeoutMs: 2000 });
    const ok = acksOf('c1').filter((a) => a.resCode === CIM.Def.CIMResCode.RES_CODE_OK);
    // Conversations run in parallel: their acks may interleave either way.
    const ids = ok.map((a) => `${a.clientMsgId}=${Number(a.serverMsgId)}`).sort();
    expect(ids).toEqual(['r-1=1', 'r-1=1', 'r-2=2', 'r-3=1']);
  });

  it("send - from_nick_name comes from the sender's user record, not the frame", async () => {
    await start();
    await send(1, 3, 'n-1', 'hi', { fromNickName: 'System Administrator' + 'x'.repeat(60_000) });
    await send(2, 1, 'n-2', 'hi alice', { fromNickName: '' });
    await waitFor(() => messagesTo(3).length === 1 && messagesTo(1).length === 1, { timeoutMs: 2000 });
    expect(messagesTo(3)[0]!.fromNickName).toBe('alice');
    expect(messagesTo(1)[0]!.fromNickName).toBe('bob');
  });

  const readAck = (reader: number, sessionId: number, msgId: number, sessionType = 1) =>
    publish(
      reader,
      `c${reader}`,
      CommandId.MSG_READ_ACK,
      CIM.Message.CIMMsgDataReadAck.encode({ userId: reader, sessionId, msgId, sessionType }).finish(),
      `s:${Math.min(reader, sessionId)}:${Math.max(reader, sessionId)}`,
    );
  const readNoticesTo = (userId: number) =>
    deliveries
      .filter((d) => d.cmd === CommandId.MSG_READ_NOTIFY && d.userIds.includes(userId))
      .map((d) => CIM.Message.CIMMsgDataReadNotify.decode(d.body))
      .filter((n) => Number(n.userId) !== userId);

  it('read - a read notice to a user one never talked with is refused and not delivered', async () => {
    await start();
    await send(2, 1, 'r-1', 'hi alice');
    await waitFor(() => okAcks('c2') === 1, { timeoutMs: 2000 });
    await readAck(3, 1, 1); // carol never talked with alice
    await readAck(1, 2, 1); // alice read bob's message
    await waitFor(() => errorsOf('c3').length === 1 && readNoticesTo(2).length === 1, { timeoutMs: 2000 });
    expect(errorsOf('c3')[0]!.errorCode).toBe(ImErrorNumber.IM_ERR_FORBIDDEN);
    expect(readNoticesTo(1)).toHaveLength(0);
    const n = readNoticesTo(2)[0]!;
    expect([Number(n.userId), Number(n.sessionId), Number(n.msgId)]).toEqual([1, 2, 1]);
  });

  const createGroup = (owner: number, members: number[], name = 'g') =>
    publish(
      owner,
      `c${owner}`,
      CommandId.GROUP_CREATE_DEFAULT_REQ,
      CIM.Group.CIMGroupCreateReq.encode({ userId: owner, groupName: name, memberIdList: members }).finish(),
      `u:${owner}`,
    );
  const createResults = (connId: string) =>
    frames
      .filter((f) => f.connId === connId && f.cmd === CommandId.GROUP_CREATE_DEFAULT_RSP)
      .map((f) => CIM.Group.CIMGroupCreateRsp.decode(f.body).resultCode);

  it('groups - member lists over the per-request limit and creations over the per-user rate are refused', async () => {
    await start({
      groupLimits: {
        maxMembersPerRequest: 2,
        create: { freeFailures: 1, baseBlockMs: 60_000, maxBlockMs: 60_000, windowMs: 60_000 },
      },
    });
    await createGroup(1, [2, 3, 4]);
    await waitFor(() => createResults('c1').length === 1, { timeoutMs: 2000 });
    await createGroup(1, [2, 3]);
    await waitFor(() => createResults('c1').length === 2, { timeoutMs: 2000 });
    await createGroup(1, [3]);
    await waitFor(() => createResults('c1').length === 3, { timeoutMs: 2000 });
    await createGroup(1, [4]);
    await createGroup(2, [3, 4]); // another user is not held back by alice's creations
    await waitFor(() => createResults('c1').length === 4 && createResults('c2').length === 1, {
      timeoutMs: 2000,
    });
    expect(createResults('c1')).toEqual([
      ImErrorNumber.IM_ERR_PAYLOAD_TOO_LARGE,
      CimErrorCode.SUCCESS,
      CimErrorCode.SUCCESS,
      ImErrorNumber.IM_ERR_USER_RATE_LIMITED,
    ]);
    expect(createResults('c2')).toEqual([CimErrorCode.SUCCESS]);
    expect(errorsOf('c1')).toHaveLength(0);

    const groupId = Number(
      CIM.Group.CIMGroupCreateRsp.decode(
        frames.find((f) => f.connId === 'c2' && f.cmd === CommandId.GROUP_CREATE_DEFAULT_RSP)!.body,
      ).groupInfo!.groupId,
    );
    await publish(
      2,
      'c2',
      CommandId.GROUP_INVITE_MEMBER_REQ,
      CIM.Group.CIMGroupInviteMemberReq.encode({ userId: 2, groupId, memberIdList: [1, 5, 6] }).finish(),
      `g:${groupId}`,
    );
    await waitFor(() => frames.some((f) => f.cmd === CommandId.GROUP_INVITE_MEMBER_RSP), { timeoutMs: 2000 });
    const invite = CIM.Group.CIMGroupInviteMemberRsp.decode(
      frames.find((f) => f.cmd === CommandId.GROUP_INVITE_MEMBER_RSP)!.body,
    );
    expect(invite.resultCode).toBe(ImErrorNumber.IM_ERR_PAYLOAD_TOO_LARGE);
    expect(await store.groups.members(groupId)).toHaveLength(3);
  });

  it('groups - an exit redelivered after its membership change failed leaves no hole in the group ids', async () => {
    await start();
    await createGroup(1, [2, 3]);
    await waitFor(() => createResults('c1').length === 1, { timeoutMs: 2000 });
    const groupId = Number(
      CIM.Group.CIMGroupCreateRsp.decode(
        frames.find((f) => f.cmd === CommandId.GROUP_CREATE_DEFAULT_RSP)!.body,
      ).groupInfo!.groupId,
    );
    // The notice is stored, then removing the member fails once: the request comes back.
    const groups = store.groups;
    const remove = groups.removeMembers.bind(groups);
    let failures = 1;
    groups.removeMembers = async (...args: Parameters<typeof remove>) => {
      if (failures-- > 0) throw new Error('database went away');
      return remove(...args);
    };
    await publish(
      3,
      'c3',
      CommandId.GROUP_EXIT_REQ,
      CIM.Group.CIMGroupExitReq.encode({ userId: 3, groupId }).finish(),
      'u:3',
    );
    await waitFor(() => frames.some((f) => f.connId === 'c3' && f.cmd === CommandId.GROUP_EXIT_RSP), {
      timeoutMs: 3000,
      message: 'the exit was not answered',
    });
    expect(failures).toBeLessThan(0); // it really failed once and was redelivered
    await send(1, groupId, 'after-exit', 'hello', { sessionType: 2 });
    await waitFor(() => acksOf('c1').some((a) => a.clientMsgId === 'after-exit'), { timeoutMs: 2000 });
    // Creation notice, exit notice, the message: as the owner's timeline shows them.
    const ids = (await store.messages.history(1, 2, groupId, { limit: 20 })).map((m) => m.serverMsgId);
    expect(ids).toEqual([1, 2, 3]);
  });

  it('groups - a refused member id is answered in the group response, not as a bare error notice', async () => {
    await start();
    await publish(
      1,
      'c1',
      CommandId.GROUP_CREATE_DEFAULT_REQ,
      // 2^60 does not fit a safe id: refused where it is read.
      CIM.Group.CIMGroupCreateReq.encode({ userId: 1, groupName: 'g', memberIdList: [2, 2 ** 60] }).finish(),
      'u:1',
    );
    await createGroup(2, [3]);
    await waitFor(() => createResults('c1').length === 1 && createResults('c2').length === 1, {
      timeoutMs: 2000,
      message: 'a create was not answered with its response',
    });
    expect(createResults('c1')).toEqual([ImErrorNumber.IM_ERR_ID_OUT_OF_RANGE]);
    expect(errorsOf('c1')).toHaveLength(0);
    expect(createResults('c2')).toEqual([CimErrorCode.SUCCESS]);
  });
});
