import { randomUUID } from 'node:crypto';
import {
  CIM,
  CommandId,
  ImErrorNumber,
  MqimError,
  conversationKey,
  groupEventId,
  mqim,
  toId,
  toIds,
  type ImErrorCode,
} from '@mqim/protocol';
import type { GroupRecord, MessageRecord } from '@mqim/store';
import { decodeBody } from './decode';
import { giveBack } from './id.giveback';
import { messageStoredEvent } from './send.handler';
import { DEFAULT_GROUP_LIMITS, type LogicDeps } from './logic-deps';
import type { RequestContext } from './request-context';

type Handler = (deps: LogicDeps, ctx: RequestContext) => Promise<void>;

const OK = 200;
const MAX_NAME = 64;
/** Upper bound on a group's size; the write-diffusion cost of one message grows with it. */
export const MAX_GROUP_MEMBERS = 10_000;

/**
 * A NOTIFICATION lists at most this many user ids (then `idsTotal` and `idsTruncated: true`).
 * The full list of a 5,000-member creation would make a ~60 KB message stored in the history and
 * sent to every member — and a frame the Windows client's 10 KB buffer rejects. Clients that need
 * everyone read the member list (0x0511).
 */
export const NOTIFICATION_MAX_IDS = 100;

const Notification = CIM.Def.CIMMsgNotificationType;
const Changed = CIM.Group.CIMGroupMemberChangedType;

/** A refused group request: the response carries this as its result_code. */
class GroupRefusal extends MqimError {}

function refuse(code: ImErrorCode, text: string): never {
  throw new GroupRefusal(code, text);
}

// What the store throws when it refuses a value (StoreInvalidArgumentError and the like): the
// client's request, so answered in the group response like our own refusals (issue 10 #13).
const STORE_REFUSALS = new Set<string>(['IM_ERR_INVALID_ARGUMENT', 'IM_ERR_NOT_FOUND', 'IM_ERR_FORBIDDEN']);

function resultOf(err: unknown): number {
  if (err instanceof GroupRefusal) return ImErrorNumber[err.code];
  const code = (err as { code?: unknown })?.code;
  if (typeof code === 'string' && (STORE_REFUSALS.has(code) || code === 'IM_ERR_ID_OUT_OF_RANGE'))
    return ImErrorNumber[code as ImErrorCode];
  throw err;
}

/**
 * Refuses a member list longer than one request may carry: each listed id costs a lookup, a row,
 * and a notice, and any user may send these (issue 10 #6).
 */
function checkListed(deps: LogicDeps, listed: number): void {
  const max = (deps.options.groupLimits ?? DEFAULT_GROUP_LIMITS).maxMembersPerRequest;
  if (listed > max) refuse('IM_ERR_PAYLOAD_TOO_LARGE', `at most ${max} members per request, got ${listed}`);
}

function toGroupInfo(g: GroupRecord): CIM.Group.ICIMGroupInfo {
  return {
    groupId: g.groupId,
    groupName: g.name,
    groupType: g.groupType,
    joinModel: g.joinModel,
    beInviteModel: g.beInviteModel,
    muteModel: g.muteModel,
    groupOwnerId: g.ownerUserId,
    createTime: g.createdAt,
    updateTime: g.updatedAt,
    groupIntro: g.intro ?? '',
    announcement: g.announcement ?? '',
    groupAvatar: g.avatar ?? '',
  };
}

async function activeGroup(deps: LogicDeps, groupId: number): Promise<GroupRecord> {
  const g = await deps.store.groups.get(groupId);
  if (!g || g.status !== 'active') refuse('IM_ERR_NOT_FOUND', `group ${groupId} does not exist`);
  return g;
}

/** What notify() stored: the encoded CIMMsgData for attach_notification_msg, and the row. */
interface Notice {
  data: Uint8Array;
  record: MessageRecord;
}

/**
 * Stores a NOTIFICATION message in the group's history (sender = the group id, as CoffeeChat
 * clients expect) and delivers it to `audience`.
 */
async function notify(
  deps: LogicDeps,
  ctx: RequestContext,
  group: { groupId: number; name: string; ownerUserId: number },
  type: number,
  ids: number[],
  owners: number[],
  audience: number[],
): Promise<Notice> {
  const payload = JSON.stringify({
    notificationType: type,
    data: {
      groupId: String(group.groupId),
      groupName: group.name,
      owner: String(group.ownerUserId),
      operator: String(ctx.userId),
      ids: ids.slice(0, NOTIFICATION_MAX_IDS).map(String),
      ...(ids.length > NOTIFICATION_MAX_IDS ? { idsTotal: ids.length, idsTruncated: true } : {}),
    },
  });
  const key = conversationKey(2, ctx.userId, group.groupId);
  // Derived from the request so a redelivered request stores nothing twice, and takes no new id.
  const clientMsgId =
    `n-${ctx.gateId}-${ctx.connId}-${ctx.seq}-${ctx.receivedAtMs}`.slice(0, 64) || randomUUID();
  const earlier = await deps.store.messages.findSent(group.groupId, clientMsgId);
  const conv = { type: 2 as const, groupId: group.groupId };
  const serverMsgId = earlier
    ? earlier.serverMsgId
    : await deps.cache.sequences.next(key, () => deps.store.messages.maxServerMsgId(conv));
  const record: MessageRecord = {
    serverMsgId,
    clientMsgId,
    fromUserId: group.groupId,
    sessionType: 2,
    toSessionId: group.groupId,
    msgType: CIM.Def.CIMMsgType.MSG_TYPE_NOTIFICATION,
    msgData: Buffer.from(payload),
    attach: '',
    senderClientType: 0,
    msgStatus: 0,
    createTime: Math.floor(Date.now() / 1000),
  };
  let m = earlier ?? record;
  if (!earlier) {
    let saved: Awaited<ReturnType<typeof deps.store.messages.save>>;
    try {
      saved = await deps.store.messages.save(record, owners);
    } catch (err) {
      await giveBack(deps, key, conv, serverMsgId);
      throw err;
    }
    if (saved === 'duplicate') {
      await giveBack(deps, key, conv, serverMsgId);
      m = (await deps.store.messages.findSent(group.groupId, clientMsgId)) ?? record;
    }
  }
  const data = CIM.Message.CIMMsgData.encode({
    fromUserId: m.fromUserId,
    fromNickName: group.name,
    toSessionId: group.groupId,
    clientMsgId: m.clientMsgId,
    serverMsgId: m.serverMsgId,
    createTime: m.createTime,
    msgType: m.msgType,
    sessionType: 2,
    msgData: m.msgData,
  }).finish();
  await publishIntent(deps, key, audience, CommandId.MSG_DATA, data, ctx.receivedAtMs);
  return { data, record: m };
}

const Kind = mqim.v1.GroupChangeKind;

/**
 * The events of a group change, once all of it is durable: the stored notice (MESSAGE_STORED,
 * like any group message) and the change itself, keyed by that notice's id — every change
 * stores exactly one notice, so a data team can match the two one to one.
 */
async function groupChanged(
  deps: LogicDeps,
  ctx: RequestContext,
  group: { groupId: number; name: string; ownerUserId: number },
  kind: mqim.v1.GroupChangeKind,
  userIds: number[],
  notice: Notice,
  memberCount: number,
): Promise<void> {
  const m = notice.record;
  const type =
    kind === Kind.GROUP_CHANGE_KIND_CREATED
      ? mqim.v1.EventType.EVENT_TYPE_GROUP_CREATED
      : kind === Kind.GROUP_CHANGE_KIND_DISSOLVED
        ? mqim.v1.EventType.EVENT_TYPE_GROUP_DISSOLVED
        : mqim.v1.EventType.EVENT_TYPE_GROUP_CHANGED;
  const record: mqim.v1.IPersistedMessage = {
    serverMsgId: m.serverMsgId,
    clientMsgId: m.clientMsgId,
    fromUserId: m.fromUserId,
    sessionType: 2,
    toSessionId: m.toSessionId,
    msgType: m.msgType,
    createTime: m.createTime,
    msgDataSize: m.msgData.length,
    recipientCount: memberCount,
    senderClientType: 0,
    persistedAtMs: Date.now(),
  };
  // The notice is a row of the message tables like any chat message: the tap reports it too, so
  // the tap and the stream both match im_message_send one to one.
  await Promise.all([
    deps.tap.publish(record),
    deps.events.publish(messageStoredEvent(record, ctx.userId), {
      eventId: groupEventId(group.groupId, m.serverMsgId),
      type,
      actorUserId: ctx.userId,
      group: {
        groupId: group.groupId,
        kind,
        userIds,
        noticeMsgId: m.serverMsgId,
        groupName: group.name,
        ownerUserId: group.ownerUserId,
        memberCount,
      },
    }),
  ]);
}

async function publishIntent(
  deps: LogicDeps,
  group: string,
  userIds: number[],
  cmd: number,
  body: Uint8Array,
  originAtMs: number,
): Promise<void> {
  if (!userIds.length) return;
  await deps.intents.publish({ userIds, cmd, body, originAtMs }, group);
}

async function memberChanged(
  deps: LogicDeps,
  ctx: RequestContext,
  groupId: number,
  type: number,
  changed: number[],
  audience: number[],
): Promise<void> {
  const body = CIM.Group.CIMGroupMemberChangedNotify.encode({
    userId: ctx.userId,
    groupId,
    changedList: changed.map((userId) => ({ userId, type })),
  }).finish();
  await publishIntent(
    deps,
    conversationKey(2, ctx.userId, groupId),
    audience,
    CommandId.GROUP_MEMBER_CHANGED_NOTIFY,
    body,
    ctx.receivedAtMs,
  );
}

async function existingUsers(deps: LogicDeps, ids: number[]): Promise<number[]> {
  if (!ids.length) return [];
  const users = await deps.store.users.findMany(ids);
  const found = new Set(users.map((u) => u.userId));
  const missing = ids.filter((id) => !found.has(id));
  if (missing.length) refuse('IM_ERR_NOT_FOUND', `users do not exist: ${missing.slice(0, 10).join(', ')}`);
  return ids;
}

const handleCreate: Handler = async (deps, ctx) => {
  const req = decodeBody(CIM.Group.CIMGroupCreateReq, ctx.req.body, 'CIMGroupCreateReq');
  try {
    const name = req.groupName.trim();
    if (!name || name.length > MAX_NAME)
      refuse('IM_ERR_INVALID_ARGUMENT', `group_name must be 1-${MAX_NAME} characters`);
    checkListed(deps, req.memberIdList.length);
    const invited = [...new Set(toIds(req.memberIdList, 'member_id_list'))].filter((id) => id !== ctx.userId);
    if (invited.length + 1 > MAX_GROUP_MEMBERS)
      refuse('IM_ERR_INVALID_ARGUMENT', `a group has at most ${MAX_GROUP_MEMBERS} members`);
    // Creations per user are counted in the cache (shared by every logic) with backoff; a refused
    // creation is not counted, so waiting out the block is enough.
    const createKey = `group-create:${ctx.userId}`;
    const waitMs = await deps.cache.attempts.blockedFor([createKey]);
    if (waitMs > 0)
      refuse('IM_ERR_USER_RATE_LIMITED', `too many groups created; retry in ${Math.ceil(waitMs / 1000)} s`);
    await existingUsers(deps, invited);
    const members = [ctx.userId, ...invited];
    // Counted before the group exists: a cache failure here retries a request that created nothing.
    await deps.cache.attempts.fail(createKey, (deps.options.groupLimits ?? DEFAULT_GROUP_LIMITS).create);
    const group = await deps.store.groups.create({ name, ownerUserId: ctx.userId }, members);
    const notice = await notify(
      deps,
      ctx,
      group,
      Notification.MSG_NOTIFICATION_GROUP_CREATE,
      invited,
      members,
      members,
    );
    await groupChanged(deps, ctx, group, Kind.GROUP_CHANGE_KIND_CREATED, invited, notice, members.length);
    const rsp = CIM.Group.CIMGroupCreateRsp.encode({
      userId: ctx.userId,
      resultCode: OK,
      groupInfo: toGroupInfo(group),
      memberIdList: members,
      attachNotificationMsg: notice.data,
    }).finish();
    await ctx.reply(CommandId.GROUP_CREATE_DEFAULT_RSP, rsp);
  } catch (err) {
    const rsp = CIM.Group.CIMGroupCreateRsp.encode({
      userId: ctx.userId,
      resultCode: resultOf(err),
    }).finish();
    await ctx.reply(CommandId.GROUP_CREATE_DEFAULT_RSP, rsp);
  }
};

/** Response shape shared by disband, exit, invite and kick (fields 1, 2, 3 and 10). */
interface ChangeRspType {
  encode(m: { userId: number; groupId: number; resultCode: number; attachNotificationMsg?: Uint8Array }): {
    finish(): Uint8Array;
  };
}

/**
 * Runs a membership change and answers it: result 200 with the notification it stored, or the
 * refusal's error number. Anything that is not a refusal propagates (the request is retried).
 */
async function answerChange(
  ctx: RequestContext,
  rspCmd: number,
  rspType: ChangeRspType,
  groupId: number,
  change: () => Promise<Uint8Array>,
): Promise<void> {
  let resultCode = OK;
  let attach: Uint8Array | undefined;
  try {
    attach = await change();
  } catch (err) {
    resultCode = resultOf(err);
  }
  await ctx.reply(
    rspCmd,
    rspType.encode({ userId: ctx.userId, groupId, resultCode, attachNotificationMsg: attach }).finish(),
  );
}

const handleDisband: Handler = async (deps, ctx) => {
  const req = decodeBody(CIM.Group.CIMGroupDisbandingReq, ctx.req.body, 'CIMGroupDisbandingReq');
  const groupId = toId(req.groupId, 'group_id');
  await answerChange(
    ctx,
    CommandId.GROUP_DISBINGDING_RSP,
    CIM.Group.CIMGroupDisbandingRsp,
    groupId,
    async () => {
      const group = await activeGroup(deps, groupId);
      if (group.ownerUserId !== ctx.userId) refuse('IM_ERR_FORBIDDEN', 'only the owner may disband a group');
      const members = await deps.store.groups.members(groupId);
      const notice = await notify(
        deps,
        ctx,
        group,
        Notification.MSG_NOTIFICATION_GROUP_DISMISS,
        [],
        members,
        members,
      );
      await deps.store.groups.disband(groupId);
      await groupChanged(deps, ctx, group, Kind.GROUP_CHANGE_KIND_DISSOLVED, [], notice, 0);
      return notice.data;
    },
  );
};

const handleExit: Handler = async (deps, ctx) => {
  const req = decodeBody(CIM.Group.CIMGroupExitReq, ctx.req.body, 'CIMGroupExitReq');
  const groupId = toId(req.groupId, 'group_id');
  await answerChange(ctx, CommandId.GROUP_EXIT_RSP, CIM.Group.CIMGroupExitRsp, groupId, async () => {
    const group = await activeGroup(deps, groupId);
    if (group.ownerUserId === ctx.userId)
      refuse('IM_ERR_FORBIDDEN', 'the owner cannot exit; disband the group instead');
    const members = await deps.store.groups.members(groupId);
    if (!members.includes(ctx.userId)) refuse('IM_ERR_FORBIDDEN', 'not a member of this group');
    const notice = await notify(
      deps,
      ctx,
      group,
      Notification.MSG_NOTIFICATION_GROUP_LEAVE,
      [ctx.userId],
      members,
      members,
    );
    await deps.store.groups.removeMembers(groupId, [ctx.userId]);
    await memberChanged(deps, ctx, groupId, Changed.GROUP_MEMBER_CHANGED_DEL, [ctx.userId], members);
    await groupChanged(
      deps,
      ctx,
      group,
      Kind.GROUP_CHANGE_KIND_MEMBER_LEFT,
      [ctx.userId],
      notice,
      members.length - 1,
    );
    return notice.data;
  });
};

const handleList: Handler = async (deps, ctx) => {
  const groups = await deps.store.groups.listForUser(ctx.userId);
  const rsp = CIM.Group.CIMGroupListRsp.encode({
    userId: ctx.userId,
    groupVersionList: groups.map((g) => ({ groupId: g.groupId, groupVersion: g.version })),
  }).finish();
  await ctx.reply(CommandId.GROUP_LIST_RSP, rsp);
};

/** Returns the groups whose version is newer than the one the client holds (0 = always). */
const handleInfo: Handler = async (deps, ctx) => {
  const req = decodeBody(CIM.Group.CIMGroupInfoReq, ctx.req.body, 'CIMGroupInfoReq');
  const known = new Map<number, number>();
  for (const v of req.groupVersionList.slice(0, 500))
    known.set(toId(v.groupId ?? 0, 'group_id'), v.groupVersion ?? 0);
  const mine = new Set((await deps.store.groups.listForUser(ctx.userId)).map((g) => g.groupId));
  const groups = await deps.store.groups.getMany([...known.keys()].filter((id) => mine.has(id)));
  const rsp = CIM.Group.CIMGroupInfoRsp.encode({
    userId: ctx.userId,
    resultCode: OK,
    groupInfoList: groups
      .filter((g) => g.version > (known.get(g.groupId) ?? 0) || !known.get(g.groupId))
      .map(toGroupInfo),
  }).finish();
  await ctx.reply(CommandId.GROUP_INFO_RSP, rsp);
};

const handleInvite: Handler = async (deps, ctx) => {
  const req = decodeBody(CIM.Group.CIMGroupInviteMemberReq, ctx.req.body, 'CIMGroupInviteMemberReq');
  const groupId = toId(req.groupId, 'group_id');
  await answerChange(
    ctx,
    CommandId.GROUP_INVITE_MEMBER_RSP,
    CIM.Group.CIMGroupInviteMemberRsp,
    groupId,
    async () => {
      const group = await activeGroup(deps, groupId);
      const members = await deps.store.groups.members(groupId);
      if (!members.includes(ctx.userId)) refuse('IM_ERR_FORBIDDEN', 'only members may invite');
      checkListed(deps, req.memberIdList.length);
      const current = new Set(members);
      const invited = [...new Set(toIds(req.memberIdList, 'member_id_list'))].filter(
        (id) => !current.has(id),
      );
      if (!invited.length)
        refuse('IM_ERR_INVALID_ARGUMENT', 'nobody to invite: everyone listed is already a member');
      if (members.length + invited.length > MAX_GROUP_MEMBERS)
        refuse('IM_ERR_INVALID_ARGUMENT', `a group has at most ${MAX_GROUP_MEMBERS} members`);
      await existingUsers(deps, invited);
      await deps.store.groups.addMembers(groupId, invited);
      const all = [...members, ...invited];
      const notice = await notify(
        deps,
        ctx,
        group,
        Notification.MSG_NOTIFICATION_GROUP_BE_INVITE,
        invited,
        all,
        all,
      );
      await memberChanged(deps, ctx, groupId, Changed.GROUP_MEMBER_CHANGED_ADD, invited, all);
      await groupChanged(deps, ctx, group, Kind.GROUP_CHANGE_KIND_MEMBERS_ADDED, invited, notice, all.length);
      return notice.data;
    },
  );
};

// The original server answered 0x0512 here; mqim uses 0x0514 as the command table says.
const handleKick: Handler = async (deps, ctx) => {
  const req = decodeBody(CIM.Group.CIMGroupKickOutMemberReq, ctx.req.body, 'CIMGroupKickOutMemberReq');
  const groupId = toId(req.groupId, 'group_id');
  await answerChange(
    ctx,
    CommandId.GROUP_KICK_OUT_MEMBER_RSP,
    CIM.Group.CIMGroupKickOutMemberRsp,
    groupId,
    async () => {
      const group = await activeGroup(deps, groupId);
      if (group.ownerUserId !== ctx.userId) refuse('IM_ERR_FORBIDDEN', 'only the owner may remove members');
      const members = await deps.store.groups.members(groupId);
      const current = new Set(members);
      const kicked = [...new Set(toIds(req.memberIdList, 'member_id_list'))].filter(
        (id) => id !== ctx.userId && current.has(id),
      );
      if (!kicked.length)
        refuse('IM_ERR_INVALID_ARGUMENT', 'nobody to remove: list members other than yourself');
      const notice = await notify(
        deps,
        ctx,
        group,
        Notification.MSG_NOTIFICATION_GROUP_KICK,
        kicked,
        members,
        members,
      );
      await deps.store.groups.removeMembers(groupId, kicked);
      await memberChanged(deps, ctx, groupId, Changed.GROUP_MEMBER_CHANGED_DEL, kicked, members);
      await groupChanged(
        deps,
        ctx,
        group,
        Kind.GROUP_CHANGE_KIND_MEMBERS_REMOVED,
        kicked,
        notice,
        members.length - kicked.length,
      );
      return notice.data;
    },
  );
};

const handleMembers: Handler = async (deps, ctx) => {
  const req = decodeBody(CIM.Group.CIMGroupMemberListReq, ctx.req.body, 'CIMGroupMemberListReq');
  const groupId = toId(req.groupId, 'group_id');
  const group = await deps.store.groups.get(groupId);
  const members = group && group.status === 'active' ? await deps.store.groups.members(groupId) : [];
  // Strangers learn nothing about who is in a group.
  const visible = members.includes(ctx.userId) ? members : [];
  await ctx.reply(
    CommandId.GROUP_LIST_MEMBER_RSP,
    CIM.Group.CIMGroupMemberListRsp.encode({ userId: ctx.userId, groupId, memberIdList: visible }).finish(),
  );
};

export const groupHandlers: [number, Handler][] = [
  [CommandId.GROUP_CREATE_DEFAULT_REQ, handleCreate],
  [CommandId.GROUP_DISBINGDING_REQ, handleDisband],
  [CommandId.GROUP_EXIT_REQ, handleExit],
  [CommandId.GROUP_LIST_REQ, handleList],
  [CommandId.GROUP_INFO_REQ, handleInfo],
  [CommandId.GROUP_INVITE_MEMBER_REQ, handleInvite],
  [CommandId.GROUP_KICK_OUT_MEMBER_REQ, handleKick],
  [CommandId.GROUP_LIST_MEMBER_REQ, handleMembers],
];
