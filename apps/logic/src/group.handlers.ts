import { randomUUID } from 'node:crypto';
import {
  CIM,
  CommandId,
  MqimError,
  errorNumberOf,
  isClientFault,
  conversationKey,
  toId,
  toIds,
  type ImErrorCode,
  decodeBody,
  groupEventId,
  mqim,
  SessionType,
} from '@mqim/protocol';
import type { GroupRecord, MessageRecord } from '@mqim/store';
import { giveBack } from './id.giveback';
import { messageStoredEvent } from './send.handler';
import { DEFAULT_GROUP_LIMITS, type LogicDeps } from './logic-deps';
import type { RequestContext } from './request-context';

type Handler = (deps: LogicDeps, ctx: RequestContext) => Promise<void>;

const OK = 200;
export const MAX_NAME = 64;
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

/** A refused group request: the response carries the code's number as its result_code. */
export function refuse(code: ImErrorCode, text: string): never {
  throw new MqimError(code, text);
}

/** The result code of a refusal (the client's fault, `isClientFault`); anything else is rethrown. */
export function resultOf(err: unknown): number {
  if (isClientFault(err)) return errorNumberOf((err as { code: string }).code);
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

export async function activeGroup(deps: LogicDeps, groupId: number): Promise<GroupRecord> {
  const g = await deps.store.groups.get(groupId);
  if (!g || g.status !== 'active') refuse('IM_ERR_NOT_FOUND', `group ${groupId} does not exist`);
  return g;
}

/** What a group NOTIFICATION says changed, as stored in its JSON payload. */
interface Noted {
  readonly ids: number[];
  /** The payload lists only the first NOTIFICATION_MAX_IDS ids. */
  readonly truncated: boolean;
}

/**
 * The NOTIFICATION an earlier attempt of this request stored in the group's history, if any. It
 * is keyed by the request (client_msg_id = `ctx.requestKey`, sender = the group), and it is stored
 * *before* the change it announces is applied: finding it means the change was decided and may
 * be half-applied, so the retry finishes it instead of deciding again against a state the first
 * attempt already changed (which answered "nobody to invite" and lost the notices).
 */
export function earlierNotice(
  deps: LogicDeps,
  ctx: RequestContext,
  groupId: number,
): Promise<MessageRecord | null> {
  return deps.store.messages.findSent(groupId, ctx.requestKey);
}

function notedIn(m: MessageRecord): Noted {
  try {
    const data = (JSON.parse(Buffer.from(m.msgData).toString('utf8')) as { data?: Record<string, unknown> })
      .data;
    const ids = Array.isArray(data?.ids) ? data.ids.map(Number).filter(Number.isSafeInteger) : [];
    return { ids, truncated: data?.idsTruncated === true };
  } catch {
    return { ids: [], truncated: true };
  }
}

/**
 * Stores a NOTIFICATION message in the group's history (sender = the group id, as CoffeeChat
 * clients expect), once per request: a retry gets the record the first attempt stored, with its
 * id. Delivering it is {@link announce}'s job, after the change is applied.
 */
export async function recordNotice(
  deps: LogicDeps,
  ctx: RequestContext,
  group: { groupId: number; name: string; ownerUserId: number },
  type: number,
  ids: number[],
  owners: number[],
  /** More fields of the payload's `data` (what a role or mute change changed, ADR 0015). */
  extra: Record<string, unknown> = {},
): Promise<MessageRecord> {
  const clientMsgId = ctx.requestKey || randomUUID();
  const earlier = await deps.store.messages.findSent(group.groupId, clientMsgId);
  if (earlier) return earlier;
  const payload = JSON.stringify({
    notificationType: type,
    data: {
      groupId: String(group.groupId),
      groupName: group.name,
      owner: String(group.ownerUserId),
      operator: String(ctx.userId),
      ids: ids.slice(0, NOTIFICATION_MAX_IDS).map(String),
      ...(ids.length > NOTIFICATION_MAX_IDS ? { idsTotal: ids.length, idsTruncated: true } : {}),
      ...extra,
    },
  });
  const key = conversationKey(SessionType.GROUP, ctx.userId, group.groupId);
  const conv = { type: SessionType.GROUP, groupId: group.groupId };
  // The group's counter: the gate routes group changes in the group's lane, the lane its chat
  // messages take, so a notice and a message commit in the order of their ids.
  const serverMsgId = await deps.cache.sequences.next(key, () => deps.store.messages.maxServerMsgId(conv));
  const record: MessageRecord = {
    serverMsgId,
    clientMsgId,
    fromUserId: group.groupId,
    sessionType: SessionType.GROUP,
    toSessionId: group.groupId,
    msgType: CIM.Def.CIMMsgType.MSG_TYPE_NOTIFICATION,
    msgData: Buffer.from(payload),
    attach: '',
    senderClientType: 0,
    msgStatus: 0,
    createTime: Math.floor(Date.now() / 1000),
  };
  let saved: Awaited<ReturnType<typeof deps.store.messages.save>>;
  try {
    saved = await deps.store.messages.save(record, owners);
  } catch (err) {
    await giveBack(deps, key, conv, serverMsgId, err);
    throw err;
  }
  if (saved !== 'duplicate') return record;
  await giveBack(deps, key, conv, serverMsgId);
  return (await deps.store.messages.findSent(group.groupId, clientMsgId)) ?? record;
}

/**
 * Delivers a stored NOTIFICATION to `audience` and returns it for attach_notification_msg, in
 * CoffeeChat's encoding (`noticeAttach`). A retry delivers it again with the same id (clients drop
 * the repeat).
 */
export async function announce(
  deps: LogicDeps,
  ctx: RequestContext,
  group: { groupId: number; name: string },
  m: MessageRecord,
  audience: number[],
): Promise<Uint8Array> {
  const data = CIM.Message.CIMMsgData.encode({
    fromUserId: m.fromUserId,
    fromNickName: group.name,
    toSessionId: group.groupId,
    clientMsgId: m.clientMsgId,
    serverMsgId: m.serverMsgId,
    createTime: m.createTime,
    msgType: m.msgType,
    sessionType: SessionType.GROUP,
    msgData: m.msgData,
  }).finish();
  const key = conversationKey(SessionType.GROUP, ctx.userId, group.groupId);
  await publishIntent(deps, key, audience, CommandId.MSG_DATA, data, ctx.receivedAtMs);
  return noticeAttach(m, group.name);
}

/**
 * attach_notification_msg as CoffeeChat's server wrote it (issue 12 #5): the notice's CIMMsgData
 * as Go's `encoding/json` renders the generated struct — snake_case keys in field order, zero
 * values left out, enums as numbers, msg_data in base64 — not protobuf; its clients JSON-decode it.
 */
export function noticeAttach(m: MessageRecord, nickName: string): Uint8Array {
  const fields: [string, string | number][] = [
    ['from_user_id', m.fromUserId],
    ['from_nick_name', nickName],
    ['to_session_id', m.toSessionId],
    ['client_msg_id', m.clientMsgId],
    ['server_msg_id', m.serverMsgId],
    ['create_time', m.createTime],
    ['msg_type', m.msgType],
    ['session_type', m.sessionType],
    ['msg_data', Buffer.from(m.msgData).toString('base64')],
  ];
  const present = fields.filter(([, v]) => v !== 0 && v !== '');
  return Buffer.from(JSON.stringify(Object.fromEntries(present)));
}

const Kind = mqim.v1.GroupChangeKind;

/**
 * The events of a group change, once all of it is durable (the change applied, its notice stored
 * and announced): the stored notice (MESSAGE_STORED, like any group message) and the change
 * itself, keyed by that notice's id — every change stores exactly one notice, so a data team can
 * match the two one to one. A retry finds the notice its first attempt stored (keyed by the
 * request), so it publishes the same event ids again and consumers drop the repeat.
 */
export async function groupChanged(
  deps: LogicDeps,
  ctx: RequestContext,
  group: { groupId: number; name: string; ownerUserId: number },
  kind: mqim.v1.GroupChangeKind,
  userIds: number[],
  m: MessageRecord,
  memberCount: number,
): Promise<void> {
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
    sessionType: SessionType.GROUP,
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

function union(a: readonly number[], b: readonly number[]): number[] {
  return [...new Set([...a, ...b])];
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
    conversationKey(SessionType.GROUP, ctx.userId, groupId),
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

/**
 * The group an earlier attempt of this creation made, if any. `groups.create` takes no request key,
 * so the creation is found through what it leaves: a group of this owner and name, unchanged since
 * (version 1), whose history holds this request's notice — or holds nothing at all, which only a
 * creation that stopped between creating the group and storing its notice leaves behind (every
 * finished creation stores its notice before it answers), if its members are the ones asked for.
 */
async function earlierCreation(
  deps: LogicDeps,
  ctx: RequestContext,
  name: string,
  members: readonly number[],
): Promise<GroupRecord | null> {
  const candidates = (await deps.store.groups.listForUser(ctx.userId))
    .filter((g) => g.ownerUserId === ctx.userId && g.name === name && g.version === 1)
    .reverse(); // newest first
  const wanted = [...members].sort((a, b) => a - b).join(',');
  for (const g of candidates) {
    if (await earlierNotice(deps, ctx, g.groupId)) return g;
    const conv = { type: SessionType.GROUP, groupId: g.groupId };
    if ((await deps.store.messages.maxServerMsgId(conv)) !== 0) continue;
    if ((await deps.store.groups.members(g.groupId)).join(',') === wanted) return g;
  }
  return null;
}

const handleCreate: Handler = async (deps, ctx) => {
  const req = decodeBody(CommandId.GROUP_CREATE_DEFAULT_REQ, ctx.req.body);
  try {
    const name = req.groupName.trim();
    if (!name || name.length > MAX_NAME)
      refuse('IM_ERR_INVALID_ARGUMENT', `group_name must be 1-${MAX_NAME} characters`);
    checkListed(deps, req.memberIdList.length);
    const listed = [...new Set(toIds(req.memberIdList, 'member_id_list'))].filter((id) => id !== ctx.userId);
    if (listed.length + 1 > MAX_GROUP_MEMBERS)
      refuse('IM_ERR_INVALID_ARGUMENT', `a group has at most ${MAX_GROUP_MEMBERS} members`);
    // ADR 0014: a user who blocks the creator is left out; member_id_list answers who was added.
    const blockers = new Set(await deps.store.contacts.blockersAmong(ctx.userId, listed));
    const invited = listed.filter((id) => !blockers.has(id));
    const members = [ctx.userId, ...invited];
    // A retry finishes what its first attempt began, before the rate limit it already counted.
    let group = await earlierCreation(deps, ctx, name, members);
    if (!group) {
      // Creations per user are counted in the cache (shared by every logic) with backoff; a
      // refused creation is not counted, so waiting out the block is enough.
      const createKey = `group-create:${ctx.userId}`;
      const waitMs = await deps.cache.attempts.blockedFor([createKey]);
      if (waitMs > 0)
        refuse('IM_ERR_USER_RATE_LIMITED', `too many groups created; retry in ${Math.ceil(waitMs / 1000)} s`);
      await existingUsers(deps, invited);
      // Counted before the group exists: a cache failure here retries a request that created nothing.
      await deps.cache.attempts.fail(createKey, (deps.options.groupLimits ?? DEFAULT_GROUP_LIMITS).create);
      group = await deps.store.groups.create({ name, ownerUserId: ctx.userId }, members);
    }
    const notice = await recordNotice(
      deps,
      ctx,
      group,
      Notification.MSG_NOTIFICATION_GROUP_CREATE,
      invited,
      members,
    );
    const attach = await announce(deps, ctx, group, notice, members);
    await groupChanged(deps, ctx, group, Kind.GROUP_CHANGE_KIND_CREATED, invited, notice, members.length);
    const rsp = CIM.Group.CIMGroupCreateRsp.encode({
      userId: ctx.userId,
      resultCode: OK,
      groupInfo: toGroupInfo(group),
      memberIdList: members,
      attachNotificationMsg: attach,
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
export interface ChangeRspType {
  encode(m: { userId: number; groupId: number; resultCode: number; attachNotificationMsg?: Uint8Array }): {
    finish(): Uint8Array;
  };
}

/**
 * Runs a membership change and answers it: result 200 with the notification it stored, or the
 * refusal's error number. Anything that is not a refusal propagates (the request is retried).
 */
export async function answerChange(
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

/**
 * A group that exists, for a retry that found its notice: the first attempt checked it was active
 * and may have disbanded it since (groups are never deleted).
 */
export async function existingGroup(deps: LogicDeps, groupId: number): Promise<GroupRecord> {
  const g = await deps.store.groups.get(groupId);
  if (!g) refuse('IM_ERR_NOT_FOUND', `group ${groupId} does not exist`);
  return g;
}

const handleDisband: Handler = async (deps, ctx) => {
  const req = decodeBody(CommandId.GROUP_DISBINGDING_REQ, ctx.req.body);
  const groupId = toId(req.groupId, 'group_id');
  await answerChange(
    ctx,
    CommandId.GROUP_DISBINGDING_RSP,
    CIM.Group.CIMGroupDisbandingRsp,
    groupId,
    async () => {
      let notice = await earlierNotice(deps, ctx, groupId);
      const group = notice ? await existingGroup(deps, groupId) : await activeGroup(deps, groupId);
      if (!notice && group.ownerUserId !== ctx.userId)
        refuse('IM_ERR_FORBIDDEN', 'only the owner may disband a group');
      const members = await deps.store.groups.members(groupId);
      notice ??= await recordNotice(
        deps,
        ctx,
        group,
        Notification.MSG_NOTIFICATION_GROUP_DISMISS,
        [],
        members,
      );
      await deps.store.groups.disband(groupId);
      const attach = await announce(deps, ctx, group, notice, members);
      await groupChanged(deps, ctx, group, Kind.GROUP_CHANGE_KIND_DISSOLVED, [], notice, 0);
      return attach;
    },
  );
};

const handleExit: Handler = async (deps, ctx) => {
  const req = decodeBody(CommandId.GROUP_EXIT_REQ, ctx.req.body);
  const groupId = toId(req.groupId, 'group_id');
  await answerChange(ctx, CommandId.GROUP_EXIT_RSP, CIM.Group.CIMGroupExitRsp, groupId, async () => {
    let notice = await earlierNotice(deps, ctx, groupId);
    const group = notice ? await existingGroup(deps, groupId) : await activeGroup(deps, groupId);
    // After a retry's first attempt the user may be gone already; they still hear of it.
    const members = union(await deps.store.groups.members(groupId), notice ? [ctx.userId] : []);
    if (!notice) {
      if (group.ownerUserId === ctx.userId)
        refuse('IM_ERR_FORBIDDEN', 'the owner cannot exit; disband the group instead');
      if (!members.includes(ctx.userId)) refuse('IM_ERR_FORBIDDEN', 'not a member of this group');
      notice = await recordNotice(
        deps,
        ctx,
        group,
        Notification.MSG_NOTIFICATION_GROUP_LEAVE,
        [ctx.userId],
        members,
      );
    }
    await deps.store.groups.removeMembers(groupId, [ctx.userId]);
    const attach = await announce(deps, ctx, group, notice, members);
    await memberChanged(deps, ctx, groupId, Changed.GROUP_MEMBER_CHANGED_DEL, [ctx.userId], members);
    const left = members.filter((id) => id !== ctx.userId).length;
    await groupChanged(deps, ctx, group, Kind.GROUP_CHANGE_KIND_MEMBER_LEFT, [ctx.userId], notice, left);
    return attach;
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

/**
 * Every listed group the user is a member of, whatever version the client names: CoffeeChat's
 * clients pass on the versions 0x0508 gave them and expect the groups back (issue 12 #5).
 */
const handleInfo: Handler = async (deps, ctx) => {
  const req = decodeBody(CommandId.GROUP_INFO_REQ, ctx.req.body);
  const known = new Map<number, number>();
  for (const v of req.groupVersionList.slice(0, 500))
    known.set(toId(v.groupId ?? 0, 'group_id'), v.groupVersion ?? 0);
  const mine = new Set((await deps.store.groups.listForUser(ctx.userId)).map((g) => g.groupId));
  const groups = await deps.store.groups.getMany([...known.keys()].filter((id) => mine.has(id)));
  const rsp = CIM.Group.CIMGroupInfoRsp.encode({
    userId: ctx.userId,
    resultCode: OK,
    groupInfoList: groups.map(toGroupInfo),
  }).finish();
  await ctx.reply(CommandId.GROUP_INFO_RSP, rsp);
};

const handleInvite: Handler = async (deps, ctx) => {
  const req = decodeBody(CommandId.GROUP_INVITE_MEMBER_REQ, ctx.req.body);
  const groupId = toId(req.groupId, 'group_id');
  await answerChange(
    ctx,
    CommandId.GROUP_INVITE_MEMBER_RSP,
    CIM.Group.CIMGroupInviteMemberRsp,
    groupId,
    async () => {
      checkListed(deps, req.memberIdList.length);
      const listed = [...new Set(toIds(req.memberIdList, 'member_id_list'))];
      let notice = await earlierNotice(deps, ctx, groupId);
      const group = notice ? await existingGroup(deps, groupId) : await activeGroup(deps, groupId);
      const members = await deps.store.groups.members(groupId);
      let invited: number[];
      if (notice) {
        // The first attempt decided; its notice says whom (all listed, when it lists only some).
        const noted = notedIn(notice);
        invited = noted.truncated ? listed : noted.ids;
      } else {
        if (!members.includes(ctx.userId)) refuse('IM_ERR_FORBIDDEN', 'only members may invite');
        const current = new Set(members);
        invited = listed.filter((id) => !current.has(id));
        if (!invited.length)
          refuse('IM_ERR_INVALID_ARGUMENT', 'nobody to invite: everyone listed is already a member');
        if (members.length + invited.length > MAX_GROUP_MEMBERS)
          refuse('IM_ERR_INVALID_ARGUMENT', `a group has at most ${MAX_GROUP_MEMBERS} members`);
        // ADR 0014: nobody is added by a user they block (the answer has no list to leave them out of).
        if ((await deps.store.contacts.blockersAmong(ctx.userId, invited)).length)
          refuse('IM_ERR_BLOCKED', 'a listed user does not accept invitations from you');
        await existingUsers(deps, invited);
        notice = await recordNotice(
          deps,
          ctx,
          group,
          Notification.MSG_NOTIFICATION_GROUP_BE_INVITE,
          invited,
          [...members, ...invited],
        );
      }
      await deps.store.groups.addMembers(groupId, invited);
      const all = union(members, invited);
      const attach = await announce(deps, ctx, group, notice, all);
      await memberChanged(deps, ctx, groupId, Changed.GROUP_MEMBER_CHANGED_ADD, invited, all);
      await groupChanged(deps, ctx, group, Kind.GROUP_CHANGE_KIND_MEMBERS_ADDED, invited, notice, all.length);
      return attach;
    },
  );
};

// The original server answered 0x0512 here; mqim uses 0x0514 as the command table says.
const handleKick: Handler = async (deps, ctx) => {
  const req = decodeBody(CommandId.GROUP_KICK_OUT_MEMBER_REQ, ctx.req.body);
  const groupId = toId(req.groupId, 'group_id');
  await answerChange(
    ctx,
    CommandId.GROUP_KICK_OUT_MEMBER_RSP,
    CIM.Group.CIMGroupKickOutMemberRsp,
    groupId,
    async () => {
      const listed = [...new Set(toIds(req.memberIdList, 'member_id_list'))].filter(
        (id) => id !== ctx.userId,
      );
      let notice = await earlierNotice(deps, ctx, groupId);
      const group = notice ? await existingGroup(deps, groupId) : await activeGroup(deps, groupId);
      const members = await deps.store.groups.members(groupId);
      let kicked: number[];
      if (notice) {
        const noted = notedIn(notice);
        kicked = noted.truncated ? listed : noted.ids;
      } else {
        const current = new Set(members);
        kicked = listed.filter((id) => current.has(id));
        // The owner removes anyone; an admin removes plain members only (ADR 0015).
        if (group.ownerUserId !== ctx.userId) {
          const states = await deps.store.groups.memberStates(groupId);
          const admins = new Set(states.filter((m) => m.admin).map((m) => m.userId));
          if (!admins.has(ctx.userId))
            refuse('IM_ERR_FORBIDDEN', 'only the owner or an admin may remove members');
          if (kicked.some((id) => id === group.ownerUserId || admins.has(id)))
            refuse('IM_ERR_FORBIDDEN', 'an admin may remove plain members only');
        }
        if (!kicked.length)
          refuse('IM_ERR_INVALID_ARGUMENT', 'nobody to remove: list members other than yourself');
        notice = await recordNotice(
          deps,
          ctx,
          group,
          Notification.MSG_NOTIFICATION_GROUP_KICK,
          kicked,
          members,
        );
      }
      await deps.store.groups.removeMembers(groupId, kicked);
      // The removed hear of it too, whether or not a first attempt removed them already.
      const audience = union(members, kicked);
      const attach = await announce(deps, ctx, group, notice, audience);
      await memberChanged(deps, ctx, groupId, Changed.GROUP_MEMBER_CHANGED_DEL, kicked, audience);
      const gone = new Set(kicked);
      const remaining = audience.filter((id) => !gone.has(id)).length;
      await groupChanged(deps, ctx, group, Kind.GROUP_CHANGE_KIND_MEMBERS_REMOVED, kicked, notice, remaining);
      return attach;
    },
  );
};

const handleMembers: Handler = async (deps, ctx) => {
  const req = decodeBody(CommandId.GROUP_LIST_MEMBER_REQ, ctx.req.body);
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
