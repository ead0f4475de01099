import Long from 'long';
import pino from 'pino';
import { MemoryBus, type OutgoingMessage } from '@mqim/bus';
import { MemoryCache } from '@mqim/cache';
import { MqimMetrics } from '@mqim/metrics';
import { CIM, CommandId, MqNames, decodeIntents, longToNumber, mqim } from '@mqim/protocol';
import { createSqliteStore, type Store } from '@mqim/store';
import { waitFor } from '@mqim/testing';
import { Logic } from './logic';
import { mayModerateGroup } from './group.roles';
import { FailOnce } from './testing/fail-once';

const E = CIM.GroupExt;
const FORBIDDEN = 10201;
const NOT_FOUND = 10202;
const ID_OUT_OF_RANGE = 10005;

/**
 * Group roles, mutes, transfer and read receipts (issue 12, ADR 0015), through logic on the memory
 * bus and an in-memory SQLite store: who may do what, what members hear, what a muted member's
 * send gets, and that each change is request-keyed (fails once, still one notice and one 200).
 */
describe('logic - group roles, mutes and read receipts', () => {
  const names = new MqNames('roles');
  const OWNER = 1;
  let bus: MemoryBus;
  let real: Store;
  let logic: Logic;
  const fail = new FailOnce();
  const { armed: failOnce, failures, unavailable, failable } = fail;
  const replies: { cmd: number; seq: number; body: Uint8Array }[] = [];
  const intents: { cmd: number; body: Uint8Array; userIds: number[] }[] = [];
  const events: mqim.v1.IEvent[] = [];

  beforeEach(async () => {
    replies.length = 0;
    intents.length = 0;
    events.length = 0;
    fail.reset();
    bus = new MemoryBus({ retryDelayMs: 10, logger: pino({ level: 'silent' }) });
    real = await createSqliteStore({ filename: ':memory:' });
    let groups = real.groups;
    for (const m of ['setAdmin', 'setMuted', 'transferOwner', 'update'] as const)
      groups = failable(groups, m, `groups.${m}`);
    const messages = failable(real.messages, 'save', 'messages.save');
    const store = Object.assign(Object.create(real) as Store, { groups, messages });
    const publish = bus.publish.bind(bus);
    bus.publish = async (m: OutgoingMessage) => {
      const toGate = m.topic === names.gate('g1');
      const step = m.topic === names.deliver ? 'bus.deliver' : toGate ? 'bus.reply' : '';
      if (step && failOnce.delete(step)) throw unavailable(step);
      const id = await publish(m);
      if (toGate)
        for (const c of mqim.v1.GateBatch.decode(m.body).commands)
          replies.push({ cmd: c.cmd ?? 0, seq: c.seq ?? 0, body: c.body ?? new Uint8Array(0) });
      if (m.topic === names.deliver)
        for (const i of decodeIntents(m.body, m.tag))
          intents.push({ cmd: i.cmd, body: i.body, userIds: i.userIds.map(longToNumber) });
      if (m.topic === names.events) events.push(...mqim.v1.EventBatch.decode(m.body).events);
      return id;
    };
    for (let u = 1; u <= 6; u++) await real.users.create({ userId: u, nickName: `u${u}` });
    await bus.ensureTopics([...names.sharedTopics(), names.gateTopic('g1')]);
    await bus.ensureGroups([...names.sharedGroups(), names.gateGroupSpec('g1')]);
    logic = new Logic(
      { topicPrefix: 'roles', historyLimitMax: 100, maxMsgDataBytes: 1024, loginPolicy: 'many' },
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
  });

  let seq = 0;
  /** Publishes a request as gate g1 would and returns its seq. */
  const request = async (
    userId: number,
    cmd: number,
    body: Uint8Array,
    orderKey: string,
    from: { systemSender?: boolean; apiSender?: boolean } = {},
  ) => {
    const s = ++seq;
    await bus.publish({
      topic: names.upstream,
      messageGroup: orderKey,
      body: mqim.v1.UpstreamRequest.encode({
        gateId: 'g1',
        connId: `c${userId}`,
        userId,
        cmd,
        seq: s,
        body,
        orderKey,
        receivedAtMs: Date.now(),
        ...from,
      }).finish(),
    });
    return s;
  };

  /** The single answer to request `s` with `rspCmd`, decoded. */
  const answer = async <T>(s: number, rspCmd: number, type: { decode(b: Uint8Array): T }): Promise<T> => {
    await waitFor(() => replies.some((r) => r.cmd === rspCmd && r.seq === s), {
      timeoutMs: 5000,
      message: `no answer to seq ${s}`,
    });
    const answers = replies.filter((r) => r.cmd === rspCmd && r.seq === s);
    expect(answers).toHaveLength(1);
    return type.decode(answers[0]!.body);
  };

  const change = async (userId: number, cmd: number, body: Uint8Array, groupId: number) =>
    answer(await request(userId, cmd, body, `g:${groupId}`), cmd + 1, E.MqimGroupChangeRsp);

  const setAdmin = (by: number, groupId: number, userId: number, admin = true) =>
    change(
      by,
      CommandId.GROUP_SET_ADMIN_REQ,
      E.MqimGroupSetAdminReq.encode({ groupId, userId, admin }).finish(),
      groupId,
    );
  const muteMember = (by: number, groupId: number, userId: number, muted = true) =>
    change(
      by,
      CommandId.GROUP_MUTE_MEMBER_REQ,
      E.MqimGroupMuteMemberReq.encode({ groupId, userId, muted }).finish(),
      groupId,
    );
  const muteAll = (by: number, groupId: number, muted = true) =>
    change(
      by,
      CommandId.GROUP_MUTE_ALL_REQ,
      E.MqimGroupMuteAllReq.encode({ groupId, muted }).finish(),
      groupId,
    );
  const rename = (by: number, groupId: number, groupName: string) =>
    change(
      by,
      CommandId.GROUP_RENAME_REQ,
      E.MqimGroupRenameReq.encode({ groupId, groupName }).finish(),
      groupId,
    );
  const transfer = (by: number, groupId: number, newOwnerId: number) =>
    change(
      by,
      CommandId.GROUP_TRANSFER_OWNER_REQ,
      E.MqimGroupTransferOwnerReq.encode({ groupId, newOwnerId }).finish(),
      groupId,
    );

  /** A group send by `from`; resolves with the 0x0302 res_code and the error name, if refused. */
  let nextClient = 0;
  const sendText = async (
    from: number,
    groupId: number,
    via: { systemSender?: boolean; apiSender?: boolean; msgType?: number } = {},
  ) => {
    const { msgType = 1, ...envelope } = via;
    const s = await request(
      from,
      CommandId.MSG_DATA,
      CIM.Message.CIMMsgData.encode({
        fromUserId: from,
        toSessionId: groupId,
        clientMsgId: `m-${++nextClient}`,
        msgType,
        sessionType: 2,
        msgData: Buffer.from(msgType === 9 ? '{"notificationType":5,"data":{}}' : 'hi'),
      }).finish(),
      `g:${groupId}`,
      envelope,
    );
    const ack = await answer(s, CommandId.MSG_DATA_ACK, CIM.Message.CIMMsgDataAck);
    const notice = replies.find(
      (r) => r.cmd === CommandId.ERROR_NOTIFY && CIM.Ext.MqimErrorNotify.decode(r.body).requestSeq === s,
    );
    return {
      ok: ack.resCode === CIM.Def.CIMResCode.RES_CODE_OK,
      serverMsgId: longToNumber(ack.serverMsgId),
      error: notice ? CIM.Ext.MqimErrorNotify.decode(notice.body).errorName : undefined,
    };
  };

  const groupOf = async (members: number[]) =>
    (await real.groups.create({ name: 'g', ownerUserId: OWNER }, members)).groupId;

  const notices = async (groupId: number) =>
    (await real.messages.history(OWNER, 2, groupId, { limit: 100 }))
      .filter((m) => m.msgType === CIM.Def.CIMMsgType.MSG_TYPE_NOTIFICATION)
      .map((m) => ({
        id: m.serverMsgId,
        data: (JSON.parse(Buffer.from(m.msgData).toString()) as { data: Record<string, unknown> }).data,
      }));

  const delivered = (serverMsgId: number) =>
    intents.filter(
      (i) =>
        i.cmd === CommandId.MSG_DATA &&
        longToNumber(CIM.Message.CIMMsgData.decode(i.body).serverMsgId) === serverMsgId,
    );

  const changedEvents = () =>
    events
      .filter((e) => e.type === mqim.v1.EventType.EVENT_TYPE_GROUP_CHANGED)
      .map((e) => ({ kind: e.group!.kind, userIds: e.group!.userIds!.map(longToNumber), id: e.eventId }));

  it('set admin - owner only; every member hears of it; a group-changed event; repeating changes nothing', async () => {
    const groupId = await groupOf([2, 3]);
    expect((await setAdmin(2, groupId, 3)).resultCode).toBe(FORBIDDEN);
    const rsp = await setAdmin(OWNER, groupId, 2);
    expect(rsp.resultCode).toBe(200);
    expect(rsp.attachNotificationMsg.length).toBeGreaterThan(0);
    expect(await mayModerateGroup(real, groupId, 2)).toBe(true);
    expect(await mayModerateGroup(real, groupId, 3)).toBe(false);
    const [notice] = await notices(groupId);
    expect(notice!.data).toMatchObject({ change: 'admin_added', ids: ['2'], operator: '1' });
    await waitFor(() => delivered(notice!.id).length > 0, { timeoutMs: 5000 });
    expect(delivered(notice!.id)[0]!.userIds.sort()).toEqual([1, 2, 3]);
    await waitFor(() => changedEvents().length > 0, { timeoutMs: 5000 });
    expect(changedEvents()).toEqual([
      { kind: mqim.v1.GroupChangeKind.GROUP_CHANGE_KIND_ADMIN_ADDED, userIds: [2], id: expect.any(String) },
    ]);
    // Already an admin: 200, nothing announced.
    const again = await setAdmin(OWNER, groupId, 2);
    expect(again.resultCode).toBe(200);
    expect(again.attachNotificationMsg.length).toBe(0);
    expect(await notices(groupId)).toHaveLength(1);
    // Unknown group, stranger, forged id.
    expect((await setAdmin(OWNER, 999_999, 2)).resultCode).toBe(NOT_FOUND);
    expect((await setAdmin(OWNER, groupId, 6)).resultCode).toBe(NOT_FOUND);
    expect((await setAdmin(OWNER, groupId, 2 ** 60)).resultCode).toBe(ID_OUT_OF_RANGE);
  });

  it('mute member - a muted member is refused with IM_ERR_GROUP_MUTED, nothing stored; unmuted sends again', async () => {
    const groupId = await groupOf([2, 3]);
    expect((await muteMember(3, groupId, 2)).resultCode).toBe(FORBIDDEN);
    expect((await muteMember(OWNER, groupId, 2)).resultCode).toBe(200);
    const before = (await real.messages.history(OWNER, 2, groupId, { limit: 100 })).length;
    expect(await sendText(2, groupId)).toEqual({ ok: false, serverMsgId: 0, error: 'IM_ERR_GROUP_MUTED' });
    expect((await real.messages.history(OWNER, 2, groupId, { limit: 100 })).length).toBe(before);
    expect((await sendText(3, groupId)).ok).toBe(true);
    expect((await muteMember(OWNER, groupId, 2, false)).resultCode).toBe(200);
    expect((await sendText(2, groupId)).ok).toBe(true);
    expect((await notices(groupId)).map((n) => n.data.change)).toEqual(['member_muted', 'member_unmuted']);
  });

  it('mute all - plain members refused; owner and admins still send; admins may mute plain members only', async () => {
    const groupId = await groupOf([2, 3, 4]);
    expect((await setAdmin(OWNER, groupId, 2)).resultCode).toBe(200);
    expect((await muteAll(3, groupId)).resultCode).toBe(FORBIDDEN);
    expect((await muteAll(2, groupId)).resultCode).toBe(200); // an admin may
    expect((await sendText(3, groupId)).error).toBe('IM_ERR_GROUP_MUTED');
    expect((await sendText(2, groupId)).ok).toBe(true);
    expect((await sendText(OWNER, groupId)).ok).toBe(true);
    // An admin mutes a plain member, not the owner, not another admin.
    expect((await muteMember(2, groupId, 4)).resultCode).toBe(200);
    expect((await muteMember(2, groupId, OWNER)).resultCode).toBe(FORBIDDEN);
    expect((await setAdmin(OWNER, groupId, 3)).resultCode).toBe(200);
    expect((await muteMember(2, groupId, 3)).resultCode).toBe(FORBIDDEN);
    expect((await muteAll(OWNER, groupId, false)).resultCode).toBe(200);
    expect((await sendText(3, groupId)).ok).toBe(true);
    expect((await sendText(4, groupId)).error).toBe('IM_ERR_GROUP_MUTED'); // still muted alone
  });

  it('mute member - the owner mutes an admin: muted whatever the role; promoting keeps the mute', async () => {
    const groupId = await groupOf([2, 3, 4]);
    expect((await setAdmin(OWNER, groupId, 2)).resultCode).toBe(200);
    expect((await muteMember(OWNER, groupId, 2)).resultCode).toBe(200);
    expect(await sendText(2, groupId)).toEqual({ ok: false, serverMsgId: 0, error: 'IM_ERR_GROUP_MUTED' });
    // A muted plain member made admin stays muted.
    expect((await muteMember(OWNER, groupId, 3)).resultCode).toBe(200);
    expect((await setAdmin(OWNER, groupId, 3)).resultCode).toBe(200);
    expect((await sendText(3, groupId)).error).toBe('IM_ERR_GROUP_MUTED');
    // Admins are exempt from mute-all only; the owner is never muted.
    expect((await setAdmin(OWNER, groupId, 4)).resultCode).toBe(200);
    expect((await muteAll(OWNER, groupId)).resultCode).toBe(200);
    expect((await sendText(4, groupId)).ok).toBe(true);
    expect((await sendText(OWNER, groupId)).ok).toBe(true);
    expect((await muteMember(OWNER, groupId, 2, false)).resultCode).toBe(200);
    expect((await sendText(2, groupId)).ok).toBe(true);
  });

  it('mute member - leaving and being invited again does not lift the mute', async () => {
    const groupId = await groupOf([2, 3]);
    expect((await muteMember(OWNER, groupId, 2)).resultCode).toBe(200);
    const members = async (cmd: number, rspCmd: number, ids: number[]) =>
      answer(
        await request(
          OWNER,
          cmd,
          CIM.Group.CIMGroupInviteMemberReq.encode({ userId: OWNER, groupId, memberIdList: ids }).finish(),
          `g:${groupId}`,
        ),
        rspCmd,
        CIM.Group.CIMGroupInviteMemberRsp,
      );
    expect(
      (await members(CommandId.GROUP_KICK_OUT_MEMBER_REQ, CommandId.GROUP_KICK_OUT_MEMBER_RSP, [2]))
        .resultCode,
    ).toBe(200);
    expect(
      (await members(CommandId.GROUP_INVITE_MEMBER_REQ, CommandId.GROUP_INVITE_MEMBER_RSP, [2])).resultCode,
    ).toBe(200);
    expect(await real.groups.members(groupId)).toEqual([1, 2, 3]);
    expect((await sendText(2, groupId)).error).toBe('IM_ERR_GROUP_MUTED');
  });

  it('system sends - a muted member is muted on a system send too; a system non-member is not', async () => {
    const groupId = await groupOf([2, 3]);
    expect((await muteMember(OWNER, groupId, 2)).resultCode).toBe(200);
    expect((await sendText(2, groupId, { systemSender: true, apiSender: true })).error).toBe(
      'IM_ERR_GROUP_MUTED',
    );
    expect((await muteAll(OWNER, groupId)).resultCode).toBe(200);
    expect((await sendText(3, groupId, { systemSender: true, apiSender: true })).error).toBe(
      'IM_ERR_GROUP_MUTED',
    );
    // User 6 is not a member: a system account announcing.
    expect((await sendText(6, groupId, { systemSender: true, apiSender: true })).ok).toBe(true);
  });

  it('notification messages (msg_type 9) - refused from clients, accepted from the api', async () => {
    const groupId = await groupOf([2, 3]);
    expect(await sendText(2, groupId, { msgType: 9 })).toEqual({
      ok: false,
      serverMsgId: 0,
      error: 'IM_ERR_INVALID_ARGUMENT',
    });
    expect(await notices(groupId)).toEqual([]);
    expect((await sendText(2, groupId, { msgType: 9, apiSender: true })).ok).toBe(true);
    expect((await sendText(2, groupId, { msgType: 1 })).ok).toBe(true);
  });

  it('transfer - repeating a done transfer (a retry after a timeout) answers 200 and announces nothing', async () => {
    const groupId = await groupOf([2, 3]);
    expect((await transfer(OWNER, groupId, 2)).resultCode).toBe(200);
    const again = await transfer(OWNER, groupId, 2);
    expect(again.resultCode).toBe(200);
    expect(again.attachNotificationMsg.length).toBe(0);
    expect((await notices(groupId)).map((n) => n.data.change)).toEqual(['owner_transferred']);
    // Anything else from the old owner is still refused; a stranger learns nothing.
    expect((await transfer(OWNER, groupId, 3)).resultCode).toBe(FORBIDDEN);
    expect((await transfer(6, groupId, 2)).resultCode).toBe(FORBIDDEN);
  });

  it('group ids above 2^53 - every role change is answered IM_ERR_ID_OUT_OF_RANGE', async () => {
    const big = Long.fromString('9007199254740993', true) as unknown as number;
    expect((await rename(OWNER, big, 'x')).resultCode).toBe(ID_OUT_OF_RANGE);
    expect((await muteAll(OWNER, big)).resultCode).toBe(ID_OUT_OF_RANGE);
    expect((await transfer(OWNER, big, 2)).resultCode).toBe(ID_OUT_OF_RANGE);
  });

  it('rename - a retry that re-applies the same name bumps the group version once', async () => {
    const groupId = await groupOf([2]);
    const version = (await real.groups.get(groupId))!.version;
    failOnce.add('bus.reply');
    expect((await rename(OWNER, groupId, 'once')).resultCode).toBe(200);
    expect(failures).toEqual(['bus.reply']);
    expect((await real.groups.get(groupId))!.version).toBe(version + 1);
  });

  it('kick by an admin - plain members only; the owner and other admins stay', async () => {
    const groupId = await groupOf([2, 3, 4]);
    const kick = async (by: number, ids: number[]) =>
      answer(
        await request(
          by,
          CommandId.GROUP_KICK_OUT_MEMBER_REQ,
          CIM.Group.CIMGroupKickOutMemberReq.encode({ userId: by, groupId, memberIdList: ids }).finish(),
          `g:${groupId}`,
        ),
        CommandId.GROUP_KICK_OUT_MEMBER_RSP,
        CIM.Group.CIMGroupKickOutMemberRsp,
      );
    expect((await kick(2, [4])).resultCode).toBe(FORBIDDEN); // not yet an admin
    await setAdmin(OWNER, groupId, 2);
    await setAdmin(OWNER, groupId, 3);
    expect((await kick(2, [OWNER])).resultCode).toBe(FORBIDDEN);
    expect((await kick(2, [3, 4])).resultCode).toBe(FORBIDDEN);
    expect((await kick(2, [4])).resultCode).toBe(200);
    expect(await real.groups.members(groupId)).toEqual([1, 2, 3]);
    expect((await kick(OWNER, [3])).resultCode).toBe(200);
    expect(await real.groups.members(groupId)).toEqual([1, 2]);
  });

  it('roles - members read owner, admins and mutes; strangers are refused', async () => {
    const groupId = await groupOf([2, 3]);
    await setAdmin(OWNER, groupId, 2);
    await muteMember(OWNER, groupId, 3);
    await muteAll(OWNER, groupId);
    const ask = async (userId: number) =>
      answer(
        await request(
          userId,
          CommandId.GROUP_ROLES_REQ,
          E.MqimGroupRolesReq.encode({ groupId }).finish(),
          `u${userId}`,
        ),
        CommandId.GROUP_ROLES_RSP,
        E.MqimGroupRolesRsp,
      );
    const rsp = await ask(3);
    expect(rsp.resultCode).toBe(200);
    expect(longToNumber(rsp.ownerId)).toBe(OWNER);
    expect(rsp.adminIds.map(longToNumber)).toEqual([2]);
    expect(rsp.mutedIds.map(longToNumber)).toEqual([3]);
    expect(rsp.mutedAll).toBe(true);
    expect((await ask(5)).resultCode).toBe(FORBIDDEN);
  });

  it('rename and transfer - moderators rename; the owner hands over, then the new owner rules', async () => {
    const groupId = await groupOf([2, 3]);
    expect((await rename(3, groupId, 'nope')).resultCode).toBe(FORBIDDEN);
    expect((await rename(OWNER, groupId, '   ')).resultCode).toBe(10200);
    expect((await rename(OWNER, groupId, 'renamed')).resultCode).toBe(200);
    expect((await real.groups.get(groupId))!.name).toBe('renamed');
    expect((await transfer(OWNER, groupId, 6)).resultCode).toBe(NOT_FOUND); // not a member
    expect((await transfer(2, groupId, 3)).resultCode).toBe(FORBIDDEN);
    expect((await transfer(OWNER, groupId, 2)).resultCode).toBe(200);
    expect((await real.groups.get(groupId))!.ownerUserId).toBe(2);
    expect((await setAdmin(OWNER, groupId, 3)).resultCode).toBe(FORBIDDEN);
    expect((await setAdmin(2, groupId, 3)).resultCode).toBe(200);
    expect(await mayModerateGroup(real, groupId, OWNER)).toBe(false);
    const changes = (await notices(groupId)).map((n) => n.data);
    expect(changes.map((d) => d.change)).toEqual(['renamed', 'owner_transferred', 'admin_added']);
    expect(changes[0]).toMatchObject({ groupName: 'renamed' });
    expect(changes[1]).toMatchObject({ owner: '2', previousOwner: '1', ids: ['2'] });
    await waitFor(() => changedEvents().length === 3, { timeoutMs: 5000 });
    const owned = events.find(
      (e) => e.group?.kind === mqim.v1.GroupChangeKind.GROUP_CHANGE_KIND_OWNER_TRANSFERRED,
    );
    expect(longToNumber(owned!.group!.ownerUserId!)).toBe(2);
  });

  it.each([
    ['setAdmin', 'groups.setAdmin'],
    ['setAdmin', 'messages.save'],
    ['setAdmin', 'bus.deliver'],
    ['setAdmin', 'bus.reply'],
    ['transfer', 'groups.transferOwner'],
    ['transfer', 'bus.reply'],
    ['muteMember', 'groups.setMuted'],
    ['rename', 'groups.update'],
  ])('%s - fails once at %s: applied once, one notice delivered, one 200', async (what, step) => {
    const groupId = await groupOf([2, 3]);
    failOnce.add(step);
    const rsp =
      what === 'setAdmin'
        ? await setAdmin(OWNER, groupId, 2)
        : what === 'transfer'
          ? await transfer(OWNER, groupId, 2)
          : what === 'muteMember'
            ? await muteMember(OWNER, groupId, 2)
            : await rename(OWNER, groupId, 'again');
    expect(failures).toEqual([step]);
    expect(rsp.resultCode).toBe(200);
    const stored = await notices(groupId);
    expect(stored).toHaveLength(1);
    await waitFor(() => delivered(stored[0]!.id).length > 0, { timeoutMs: 5000 });
    const states = await real.groups.memberStates(groupId);
    const group = (await real.groups.get(groupId))!;
    if (what === 'setAdmin') expect(states.find((m) => m.userId === 2)!.admin).toBe(true);
    if (what === 'transfer') expect(group.ownerUserId).toBe(2);
    if (what === 'muteMember') expect(states.find((m) => m.userId === 2)!.muted).toBe(true);
    if (what === 'rename') expect(group.name).toBe('again');
    await waitFor(() => changedEvents().length > 0, { timeoutMs: 5000 });
    expect(new Set(changedEvents().map((e) => e.id)).size).toBe(1);
  });

  it('read receipts - counts follow the members read acks; the sender sees who read; others ids left out', async () => {
    const groupId = await groupOf([2, 3, 4]);
    const first = await sendText(OWNER, groupId);
    const second = await sendText(OWNER, groupId);
    const theirs = await sendText(2, groupId);
    const read = async (userId: number, msgId: number) => {
      await request(
        userId,
        CommandId.MSG_READ_ACK,
        CIM.Message.CIMMsgDataReadAck.encode({ userId, sessionId: groupId, msgId, sessionType: 2 }).finish(),
        `g:${groupId}`,
      );
    };
    const receipts = async (userId: number, msgIds: number[]) =>
      answer(
        await request(
          userId,
          CommandId.GROUP_READ_RECEIPTS_REQ,
          E.MqimGroupReadReceiptsReq.encode({ groupId, msgIds }).finish(),
          `u${userId}`,
        ),
        CommandId.GROUP_READ_RECEIPTS_RSP,
        E.MqimGroupReadReceiptsRsp,
      );
    const view = (rsp: CIM.GroupExt.MqimGroupReadReceiptsRsp) =>
      rsp.receipts.map((r: CIM.GroupExt.IMqimGroupReadReceipt) => ({
        msgId: longToNumber(r.msgId!),
        read: r.readCount,
        unread: r.unreadCount,
        readers: (r.readerIds ?? []).map(longToNumber),
      }));
    expect(view(await receipts(OWNER, [first.serverMsgId]))).toEqual([
      { msgId: first.serverMsgId, read: 0, unread: 3, readers: [] },
    ]);
    await read(2, second.serverMsgId);
    await read(3, first.serverMsgId);
    await waitFor(async () => (await receipts(OWNER, [first.serverMsgId])).receipts[0]!.readCount === 2, {
      timeoutMs: 5000,
      message: 'read acks not counted',
    });
    const rsp = await receipts(OWNER, [first.serverMsgId, second.serverMsgId, theirs.serverMsgId, 999]);
    expect(rsp.resultCode).toBe(200);
    expect(view(rsp)).toEqual([
      { msgId: first.serverMsgId, read: 2, unread: 1, readers: [2, 3] },
      { msgId: second.serverMsgId, read: 1, unread: 2, readers: [2] },
    ]);
    expect(rsp.receipts.every((r) => r.readersListed)).toBe(true);
    // The largest id is looked up as it is (no `id + 1` past 2^53), with the others answered.
    const edge = await receipts(OWNER, [Number.MAX_SAFE_INTEGER, first.serverMsgId]);
    expect(edge.resultCode).toBe(200);
    expect(view(edge).map((r) => r.msgId)).toEqual([first.serverMsgId]);
    expect((await receipts(5, [first.serverMsgId])).resultCode).toBe(FORBIDDEN);
    expect(
      (
        await receipts(
          OWNER,
          Array.from({ length: 51 }, (_, i) => i + 1),
        )
      ).resultCode,
    ).toBe(10203);
  });
});
