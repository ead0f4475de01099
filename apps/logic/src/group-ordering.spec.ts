import pino from 'pino';
import { MemoryBus, type OutgoingMessage } from '@mqim/bus';
import { MemoryCache } from '@mqim/cache';
import { MqimMetrics } from '@mqim/metrics';
import { CIM, CommandId, MqNames, decodeIntents, longToNumber, mqim } from '@mqim/protocol';
import { createSqliteStore, type Store } from '@mqim/store';
import { waitFor } from '@mqim/testing';
import { Logic } from './logic';
import { FailOnce } from './testing/fail-once';

/**
 * Group changes under redelivery (issue 15 #1): each handler's request fails once at a step after
 * it decided what to change (the store or the bus), comes back, and still makes one group, stores
 * one notice, delivers it, and answers 200 once. Before, a retried invite/kick/exit answered
 * "nobody to invite / remove / not a member" and never sent its notices, a retried disband
 * answered "not found", and a retried create made a second group.
 */
describe('logic - group changes are request-keyed: a retry finishes what its first attempt began', () => {
  const names = new MqNames('grp');
  const OWNER = 1;
  let bus: MemoryBus;
  let real: Store;
  let logic: Logic;
  let metrics: MqimMetrics;
  const fail = new FailOnce();
  const { armed: failOnce, failures, unavailable, failable } = fail;
  const replies: { cmd: number; body: Uint8Array }[] = [];
  const intents: { cmd: number; key: string; body: Uint8Array; userIds: number[] }[] = [];
  /** The analytics events logic published (issue 17), as stored. */
  const events: mqim.v1.IEvent[] = [];

  beforeEach(async () => {
    replies.length = 0;
    intents.length = 0;
    events.length = 0;
    fail.reset();
    bus = new MemoryBus({ retryDelayMs: 10, logger: pino({ level: 'silent' }) });
    real = await createSqliteStore({ filename: ':memory:' });
    let groups = real.groups;
    for (const m of ['create', 'addMembers', 'removeMembers', 'disband'] as const)
      groups = failable(groups, m, `groups.${m}`);
    const messages = failable(real.messages, 'save', 'messages.save');
    const store = Object.assign(Object.create(real) as Store, { groups, messages });
    // The bus fails a publish to the deliver topic (the notices) or to the gate (the answer) once;
    // what it stores is recorded as it is stored, so nothing is still in flight once logic is done.
    const publish = bus.publish.bind(bus);
    bus.publish = async (m: OutgoingMessage) => {
      const toGate = m.topic === names.gate('g1');
      const step = m.topic === names.deliver ? 'bus.deliver' : toGate ? 'bus.reply' : '';
      if (step && failOnce.delete(step)) throw unavailable(step);
      const id = await publish(m);
      if (toGate)
        for (const c of mqim.v1.GateBatch.decode(m.body).commands)
          replies.push({ cmd: c.cmd ?? 0, body: c.body ?? new Uint8Array(0) });
      if (m.topic === names.deliver)
        for (const i of decodeIntents(m.body, m.tag))
          intents.push({ cmd: i.cmd, key: i.orderKey, body: i.body, userIds: i.userIds.map(longToNumber) });
      if (m.topic === names.events) events.push(...mqim.v1.EventBatch.decode(m.body).events);
      return id;
    };
    for (let u = 1; u <= 6; u++) await real.users.create({ userId: u, nickName: `u${u}` });
    await bus.ensureTopics([...names.sharedTopics(), names.gateTopic('g1')]);
    await bus.ensureGroups([...names.sharedGroups(), names.gateGroupSpec('g1')]);
    metrics = new MqimMetrics({ defaultMetrics: false });
    logic = new Logic(
      { topicPrefix: 'grp', historyLimitMax: 100, maxMsgDataBytes: 1024, loginPolicy: 'many' },
      {
        bus,
        store,
        cache: new MemoryCache(),
        metrics,
        logger: pino({ level: 'silent' }),
      },
    );
    await logic.start();
  });

  afterEach(async () => {
    await logic.stop();
    await bus.close();
  });

  let seq = 0;
  const send = async (userId: number, cmd: number, body: Uint8Array, orderKey: string) => {
    await bus.publish({
      topic: names.upstream,
      messageGroup: orderKey,
      body: mqim.v1.UpstreamRequest.encode({
        gateId: 'g1',
        connId: `c${userId}`,
        userId,
        cmd,
        seq: ++seq,
        body,
        orderKey,
        receivedAtMs: Date.now(),
      }).finish(),
    });
  };

  const handled = async (n: number) => {
    const count = async () =>
      (await metrics.consumed.get()).values.find(
        (v) => v.labels.topic === 'upstream' && v.labels.result === 'ok',
      )?.value ?? 0;
    let seen = 0;
    await waitFor(async () => (seen = await count()) >= n, { timeoutMs: 3000, message: 'not handled' });
    expect(seen).toBe(n);
  };

  /** The single answer to `rspCmd`, once it came, decoded. Fails on none or more than one. */
  const onlyAnswer = async <T>(rspCmd: number, type: { decode(b: Uint8Array): T }): Promise<T> => {
    await waitFor(() => replies.some((r) => r.cmd === rspCmd), { timeoutMs: 3000, message: 'no answer' });
    // Everything a handler publishes is stored before it returns: once logic counts the request
    // handled, nothing else of it can follow.
    await handled(1);
    const answers = replies.filter((r) => r.cmd === rspCmd);
    expect(answers).toHaveLength(1);
    return type.decode(answers[0]!.body);
  };

  const notices = async (groupId: number) =>
    (await real.messages.history(OWNER, 2, groupId, { limit: 100 })).filter(
      (m) => m.msgType === CIM.Def.CIMMsgType.MSG_TYPE_NOTIFICATION,
    );

  const noticeIntents = (serverMsgId: number) =>
    intents.filter(
      (i) =>
        i.cmd === CommandId.MSG_DATA &&
        longToNumber(CIM.Message.CIMMsgData.decode(i.body).serverMsgId) === serverMsgId,
    );

  const memberChanges = (type: number) =>
    intents
      .filter((i) => i.cmd === CommandId.GROUP_MEMBER_CHANGED_NOTIFY)
      .map((i) => CIM.Group.CIMGroupMemberChangedNotify.decode(i.body))
      .filter((n) => n.changedList.every((c) => c.type === type));

  /** A group of OWNER with `members`, made directly in the store (no notices, no traffic). */
  const groupOf = async (members: number[]) =>
    (await real.groups.create({ name: 'g', ownerUserId: OWNER }, members)).groupId;

  it.each(['messages.save', 'bus.deliver', 'bus.reply', 'groups.create'])(
    'create - fails once at %s: one group, one notice delivered, one 200',
    async (step) => {
      failOnce.add(step);
      const body = CIM.Group.CIMGroupCreateReq.encode({
        userId: OWNER,
        groupName: 'team',
        memberIdList: [2, 3],
      }).finish();
      await send(OWNER, CommandId.GROUP_CREATE_DEFAULT_REQ, body, `u${OWNER}`);
      const rsp = await onlyAnswer(CommandId.GROUP_CREATE_DEFAULT_RSP, CIM.Group.CIMGroupCreateRsp);
      expect(failures).toEqual([step]);
      expect(rsp.resultCode).toBe(200);
      const groups = await real.groups.listForUser(OWNER);
      expect(groups.map((g) => g.name)).toEqual(['team']);
      const groupId = groups[0]!.groupId;
      expect(longToNumber(rsp.groupInfo!.groupId)).toBe(groupId);
      expect(await real.groups.members(groupId)).toEqual([1, 2, 3]);
      const stored = await notices(groupId);
      expect(stored).toHaveLength(1);
      expect(noticeIntents(stored[0]!.serverMsgId).length).toBeGreaterThanOrEqual(1);
      expect(noticeIntents(stored[0]!.serverMsgId)[0]!.userIds.sort()).toEqual([1, 2, 3]);
    },
  );

  it('blocks - create leaves out a user who blocks the creator, the same on a retry', async () => {
    await real.contacts.setBlocked(2, OWNER, true);
    failOnce.add('messages.save');
    const body = CIM.Group.CIMGroupCreateReq.encode({
      userId: OWNER,
      groupName: 'team',
      memberIdList: [2, 3],
    }).finish();
    await send(OWNER, CommandId.GROUP_CREATE_DEFAULT_REQ, body, `u${OWNER}`);
    const rsp = await onlyAnswer(CommandId.GROUP_CREATE_DEFAULT_RSP, CIM.Group.CIMGroupCreateRsp);
    expect(failures).toEqual(['messages.save']);
    expect(rsp.resultCode).toBe(200);
    expect(rsp.memberIdList.map(longToNumber)).toEqual([1, 3]);
    const groups = await real.groups.listForUser(OWNER);
    expect(groups).toHaveLength(1);
    expect(await real.groups.members(groups[0]!.groupId)).toEqual([1, 3]);
    expect(await real.groups.listForUser(2)).toEqual([]);
    expect(intents.filter((i) => i.userIds.includes(2))).toEqual([]);
  });

  it('blocks - an invitation listing a user who blocks the inviter is refused IM_ERR_BLOCKED; nothing changes', async () => {
    const groupId = await groupOf([2]);
    await real.contacts.setBlocked(4, OWNER, true);
    const body = CIM.Group.CIMGroupInviteMemberReq.encode({
      userId: OWNER,
      groupId,
      memberIdList: [3, 4],
    }).finish();
    await send(OWNER, CommandId.GROUP_INVITE_MEMBER_REQ, body, `g:${groupId}`);
    const rsp = await onlyAnswer(CommandId.GROUP_INVITE_MEMBER_RSP, CIM.Group.CIMGroupInviteMemberRsp);
    expect(rsp.resultCode).toBe(10215);
    expect(await real.groups.members(groupId)).toEqual([1, 2]);
    expect(await notices(groupId)).toEqual([]);
    expect(intents.filter((i) => i.userIds.includes(4))).toEqual([]);
  });

  it.each(['groups.addMembers', 'messages.save', 'bus.deliver', 'bus.reply'])(
    'invite - fails once at %s: members added once, one notice and a member-changed notice, one 200',
    async (step) => {
      const groupId = await groupOf([2]);
      failOnce.add(step);
      const body = CIM.Group.CIMGroupInviteMemberReq.encode({
        userId: OWNER,
        groupId,
        memberIdList: [3, 4],
      }).finish();
      await send(OWNER, CommandId.GROUP_INVITE_MEMBER_REQ, body, `g:${groupId}`);
      const rsp = await onlyAnswer(CommandId.GROUP_INVITE_MEMBER_RSP, CIM.Group.CIMGroupInviteMemberRsp);
      expect(failures).toEqual([step]);
      expect(rsp.resultCode).toBe(200);
      expect(await real.groups.members(groupId)).toEqual([1, 2, 3, 4]);
      const stored = await notices(groupId);
      expect(stored).toHaveLength(1);
      expect(JSON.parse(Buffer.from(stored[0]!.msgData).toString()).data.ids).toEqual(['3', '4']);
      expect(noticeIntents(stored[0]!.serverMsgId).length).toBeGreaterThanOrEqual(1);
      const added = memberChanges(CIM.Group.CIMGroupMemberChangedType.GROUP_MEMBER_CHANGED_ADD);
      expect(added.length).toBeGreaterThanOrEqual(1);
      expect(added[0]!.changedList.map((c) => longToNumber(c.userId))).toEqual([3, 4]);
    },
  );

  it.each(['messages.save', 'groups.removeMembers', 'bus.deliver', 'bus.reply'])(
    'kick - fails once at %s: members removed once, the removed hear of it, one 200',
    async (step) => {
      const groupId = await groupOf([2, 3, 4]);
      failOnce.add(step);
      const body = CIM.Group.CIMGroupKickOutMemberReq.encode({
        userId: OWNER,
        groupId,
        memberIdList: [3, 4],
      }).finish();
      await send(OWNER, CommandId.GROUP_KICK_OUT_MEMBER_REQ, body, `g:${groupId}`);
      const rsp = await onlyAnswer(CommandId.GROUP_KICK_OUT_MEMBER_RSP, CIM.Group.CIMGroupKickOutMemberRsp);
      expect(failures).toEqual([step]);
      expect(rsp.resultCode).toBe(200);
      expect(await real.groups.members(groupId)).toEqual([1, 2]);
      const stored = await notices(groupId);
      expect(stored).toHaveLength(1);
      const delivered = noticeIntents(stored[0]!.serverMsgId);
      expect(delivered.length).toBeGreaterThanOrEqual(1);
      expect(delivered.at(-1)!.userIds.sort()).toEqual([1, 2, 3, 4]);
      const removed = memberChanges(CIM.Group.CIMGroupMemberChangedType.GROUP_MEMBER_CHANGED_DEL);
      expect(removed.length).toBeGreaterThanOrEqual(1);
      expect(removed.at(-1)!.changedList.map((c) => longToNumber(c.userId))).toEqual([3, 4]);
    },
  );

  it.each(['messages.save', 'groups.removeMembers', 'bus.deliver', 'bus.reply'])(
    'exit - fails once at %s: the member leaves once and hears of it, one 200',
    async (step) => {
      const groupId = await groupOf([2, 3]);
      failOnce.add(step);
      const body = CIM.Group.CIMGroupExitReq.encode({ userId: 3, groupId }).finish();
      await send(3, CommandId.GROUP_EXIT_REQ, body, `g:${groupId}`);
      const rsp = await onlyAnswer(CommandId.GROUP_EXIT_RSP, CIM.Group.CIMGroupExitRsp);
      expect(failures).toEqual([step]);
      expect(rsp.resultCode).toBe(200);
      expect(await real.groups.members(groupId)).toEqual([1, 2]);
      const stored = await notices(groupId);
      expect(stored).toHaveLength(1);
      expect(noticeIntents(stored[0]!.serverMsgId).at(-1)!.userIds.sort()).toEqual([1, 2, 3]);
      const removed = memberChanges(CIM.Group.CIMGroupMemberChangedType.GROUP_MEMBER_CHANGED_DEL);
      expect(removed.at(-1)!.changedList.map((c) => longToNumber(c.userId))).toEqual([3]);
    },
  );

  it.each(['messages.save', 'groups.disband', 'bus.deliver', 'bus.reply'])(
    'disband - fails once at %s: disbanded once, every member hears of it, one 200',
    async (step) => {
      const groupId = await groupOf([2, 3]);
      failOnce.add(step);
      const body = CIM.Group.CIMGroupDisbandingReq.encode({ userId: OWNER, groupId }).finish();
      await send(OWNER, CommandId.GROUP_DISBINGDING_REQ, body, `g:${groupId}`);
      const rsp = await onlyAnswer(CommandId.GROUP_DISBINGDING_RSP, CIM.Group.CIMGroupDisbandingRsp);
      expect(failures).toEqual([step]);
      expect(rsp.resultCode).toBe(200);
      expect((await real.groups.get(groupId))!.status).toBe('disbanded');
      const stored = await notices(groupId);
      expect(stored).toHaveLength(1);
      expect(noticeIntents(stored[0]!.serverMsgId).at(-1)!.userIds.sort()).toEqual([1, 2, 3]);
    },
  );

  it.each(['bus.deliver', 'bus.reply'])(
    'events - an invite retried after failing at %s publishes its group event under one id, after the change',
    async (step) => {
      const groupId = await groupOf([2]);
      failOnce.add(step);
      const body = CIM.Group.CIMGroupInviteMemberReq.encode({
        userId: OWNER,
        groupId,
        memberIdList: [3, 4],
      }).finish();
      await send(OWNER, CommandId.GROUP_INVITE_MEMBER_REQ, body, `g:${groupId}`);
      await onlyAnswer(CommandId.GROUP_INVITE_MEMBER_RSP, CIM.Group.CIMGroupInviteMemberRsp);
      const [notice] = await notices(groupId);
      const changed = events.filter((e) => e.type === mqim.v1.EventType.EVENT_TYPE_GROUP_CHANGED);
      // Failing at the answer, the first attempt's events were stored already: the retry repeats
      // them with the same id (consumers de-duplicate by it). Failing before, only the retry's.
      expect(changed.length).toBe(step === 'bus.reply' ? 2 : 1);
      expect(new Set(changed.map((e) => e.eventId)).size).toBe(1);
      expect(changed[0]!.group).toMatchObject({
        kind: mqim.v1.GroupChangeKind.GROUP_CHANGE_KIND_MEMBERS_ADDED,
        memberCount: 4,
      });
      expect(changed[0]!.group!.userIds!.map(longToNumber)).toEqual([3, 4]);
      expect(longToNumber(changed[0]!.group!.noticeMsgId!)).toBe(notice!.serverMsgId);
      const stored = events.filter((e) => e.type === mqim.v1.EventType.EVENT_TYPE_MESSAGE_STORED);
      expect(new Set(stored.map((e) => e.eventId)).size).toBe(1);
    },
  );

  it('order - a notice and a chat message in one group lane commit in the order of their ids', async () => {
    const groupId = await groupOf([2, 3]);
    const key = `g:${groupId}`;
    failOnce.add('messages.save'); // the notice's first save fails: the message behind it must wait
    await send(
      OWNER,
      CommandId.GROUP_INVITE_MEMBER_REQ,
      CIM.Group.CIMGroupInviteMemberReq.encode({ userId: OWNER, groupId, memberIdList: [4] }).finish(),
      key,
    );
    await send(
      2,
      CommandId.MSG_DATA,
      CIM.Message.CIMMsgData.encode({
        fromUserId: 2,
        toSessionId: groupId,
        clientMsgId: 'after-invite',
        msgType: 1,
        sessionType: 2,
        msgData: Buffer.from('hi'),
      }).finish(),
      key,
    );
    await handled(2);
    expect(failures).toEqual(['messages.save']);
    const history = await real.messages.history(2, 2, groupId, { limit: 10 });
    const byId = [...history]
      .sort((a, b) => a.serverMsgId - b.serverMsgId)
      .map((m) => (m.clientMsgId === 'after-invite' ? 'message' : 'notice'));
    expect(byId).toEqual(['notice', 'message']);
  });
});
