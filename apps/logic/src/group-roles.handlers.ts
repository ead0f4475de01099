import { CIM, CommandId, decodeBody, mqim, toId, toIds, type IdInput } from '@mqim/protocol';
import type { GroupMemberState, GroupRecord, MessageRecord } from '@mqim/store';
import {
  MAX_NAME,
  activeGroup,
  announce,
  answerChange,
  earlierNotice,
  existingGroup,
  groupChanged,
  recordNotice,
  refuse,
  resultOf,
} from './group.handlers';
import type { LogicDeps } from './logic-deps';
import type { RequestContext } from './request-context';

type Handler = (deps: LogicDeps, ctx: RequestContext) => Promise<void>;

const OK = 200;
const Kind = mqim.v1.GroupChangeKind;
const GROUP_UPDATE = CIM.Def.CIMMsgNotificationType.MSG_NOTIFICATION_GROUP_UPDATE;
const MUTE_ALL = CIM.Def.CIMGroupMuteModel.GROUP_MUTE_MODEL_ALL;
const MUTE_NONE = CIM.Def.CIMGroupMuteModel.GROUP_MUTE_MODEL_DEFAULT;

/** Read receipts name the readers only in groups up to this size; larger ones get counts (ADR 0015). */
export const READERS_LISTED_MAX_MEMBERS = 200;
/** Message ids one read-receipt query may ask about. */
export const READ_RECEIPTS_MAX_IDS = 50;

/** The actor's standing in a group, for the permission checks below. */
function standing(group: GroupRecord, states: readonly GroupMemberState[], userId: number) {
  const state = states.find((m) => m.userId === userId);
  const owner = group.ownerUserId === userId;
  return {
    member: state !== undefined,
    owner,
    admin: state?.admin === true,
    moderator: owner || !!state?.admin,
  };
}

/**
 * One role or moderation change, request-keyed like every group change (ADR 0009): the first
 * attempt checks and decides, stores the notice, then applies; a retry that finds the notice skips
 * the decision (the state may already show the change) and re-applies the request's change, which
 * the store makes idempotent, then announces and publishes again with the same ids. A change that
 * changes nothing ("already an admin") answers 200 with no notice: it is the same on any retry.
 */
interface RoleChange {
  /** Refuses what the actor may not do; returns false when there is nothing to change. */
  decide(group: GroupRecord, states: readonly GroupMemberState[]): boolean;
  /** Applies the change (idempotent). */
  apply(): Promise<unknown>;
  kind: mqim.v1.GroupChangeKind;
  /** The member concerned, if any (the notice's `ids`, the event's `user_ids`). */
  userIds: number[];
  /** `data.change` of the notice and what else it says. */
  notice: Record<string, unknown>;
  /** The group as it is after the change (new name, new owner), for the notice and the event. */
  after(group: GroupRecord): GroupRecord;
}

async function runChange(deps: LogicDeps, ctx: RequestContext, groupId: number, change: RoleChange) {
  let notice: MessageRecord | null = await earlierNotice(deps, ctx, groupId);
  const group = notice ? await existingGroup(deps, groupId) : await activeGroup(deps, groupId);
  const states = await deps.store.groups.memberStates(groupId);
  const members = states.map((m) => m.userId);
  if (!notice) {
    if (!change.decide(group, states)) return new Uint8Array(0);
    notice = await recordNotice(
      deps,
      ctx,
      change.after(group),
      GROUP_UPDATE,
      change.userIds,
      members,
      change.notice,
    );
  }
  await change.apply();
  const after = change.after(group);
  const attach = await announce(deps, ctx, after, notice, members);
  await groupChanged(deps, ctx, after, change.kind, change.userIds, notice, members.length);
  return attach;
}

/**
 * answerChange with the group id checked inside it: an id out of range (above 2^53) is answered
 * IM_ERR_ID_OUT_OF_RANGE like any other refusal (group_id 0 in the answer), never left to the
 * error notice alone.
 */
async function answerRoleChange(
  ctx: RequestContext,
  rspCmd: number,
  rawGroupId: IdInput,
  change: (groupId: number) => Promise<Uint8Array>,
): Promise<void> {
  let echo = 0;
  try {
    echo = toId(rawGroupId, 'group_id');
  } catch {
    // Answered below, where the same check throws inside the change.
  }
  await answerChange(ctx, rspCmd, CIM.GroupExt.MqimGroupChangeRsp, echo, () =>
    change(toId(rawGroupId, 'group_id')),
  );
}

function memberOf(states: readonly GroupMemberState[], userId: number): GroupMemberState {
  const m = states.find((s) => s.userId === userId);
  if (!m) refuse('IM_ERR_NOT_FOUND', `user ${userId} is not a member of this group`);
  return m;
}

const handleSetAdmin: Handler = async (deps, ctx) => {
  const req = decodeBody(CommandId.GROUP_SET_ADMIN_REQ, ctx.req.body);
  await answerRoleChange(ctx, CommandId.GROUP_SET_ADMIN_RSP, req.groupId, (groupId) => {
    const userId = toId(req.userId, 'user_id');
    const admin = req.admin === true;
    return runChange(deps, ctx, groupId, {
      decide: (group, states) => {
        if (group.ownerUserId !== ctx.userId) refuse('IM_ERR_FORBIDDEN', 'only the owner may set admins');
        if (userId === group.ownerUserId) refuse('IM_ERR_INVALID_ARGUMENT', 'the owner has no admin role');
        return memberOf(states, userId).admin !== admin;
      },
      apply: () => deps.store.groups.setAdmin(groupId, userId, admin),
      kind: admin ? Kind.GROUP_CHANGE_KIND_ADMIN_ADDED : Kind.GROUP_CHANGE_KIND_ADMIN_REMOVED,
      userIds: [userId],
      notice: { change: admin ? 'admin_added' : 'admin_removed' },
      after: (g) => g,
    });
  });
};

const handleRename: Handler = async (deps, ctx) => {
  const req = decodeBody(CommandId.GROUP_RENAME_REQ, ctx.req.body);
  await answerRoleChange(ctx, CommandId.GROUP_RENAME_RSP, req.groupId, (groupId) => {
    const name = req.groupName.trim();
    if (!name || name.length > MAX_NAME)
      refuse('IM_ERR_INVALID_ARGUMENT', `group_name must be 1-${MAX_NAME} characters`);
    return runChange(deps, ctx, groupId, {
      decide: (group, states) => {
        if (!standing(group, states, ctx.userId).moderator)
          refuse('IM_ERR_FORBIDDEN', 'only the owner or an admin may rename the group');
        return group.name !== name;
      },
      apply: () => deps.store.groups.update(groupId, { name }),
      kind: Kind.GROUP_CHANGE_KIND_RENAMED,
      userIds: [],
      notice: { change: 'renamed' },
      after: (g) => ({ ...g, name }),
    });
  });
};

const handleMuteAll: Handler = async (deps, ctx) => {
  const req = decodeBody(CommandId.GROUP_MUTE_ALL_REQ, ctx.req.body);
  await answerRoleChange(ctx, CommandId.GROUP_MUTE_ALL_RSP, req.groupId, (groupId) => {
    const muteModel = req.muted === true ? MUTE_ALL : MUTE_NONE;
    return runChange(deps, ctx, groupId, {
      decide: (group, states) => {
        if (!standing(group, states, ctx.userId).moderator)
          refuse('IM_ERR_FORBIDDEN', 'only the owner or an admin may mute the group');
        return group.muteModel !== muteModel;
      },
      apply: () => deps.store.groups.update(groupId, { muteModel }),
      kind: req.muted ? Kind.GROUP_CHANGE_KIND_MUTED_ALL : Kind.GROUP_CHANGE_KIND_UNMUTED_ALL,
      userIds: [],
      notice: { change: req.muted ? 'muted_all' : 'unmuted_all' },
      after: (g) => ({ ...g, muteModel }),
    });
  });
};

const handleMuteMember: Handler = async (deps, ctx) => {
  const req = decodeBody(CommandId.GROUP_MUTE_MEMBER_REQ, ctx.req.body);
  await answerRoleChange(ctx, CommandId.GROUP_MUTE_MEMBER_RSP, req.groupId, (groupId) => {
    const userId = toId(req.userId, 'user_id');
    const muted = req.muted === true;
    return runChange(deps, ctx, groupId, {
      decide: (group, states) => {
        const me = standing(group, states, ctx.userId);
        if (!me.moderator) refuse('IM_ERR_FORBIDDEN', 'only the owner or an admin may mute members');
        if (userId === group.ownerUserId) refuse('IM_ERR_FORBIDDEN', 'the owner cannot be muted');
        const target = memberOf(states, userId);
        if (target.admin && !me.owner) refuse('IM_ERR_FORBIDDEN', 'only the owner may mute an admin');
        return target.muted !== muted;
      },
      apply: () => deps.store.groups.setMuted(groupId, userId, muted),
      kind: muted ? Kind.GROUP_CHANGE_KIND_MEMBER_MUTED : Kind.GROUP_CHANGE_KIND_MEMBER_UNMUTED,
      userIds: [userId],
      notice: { change: muted ? 'member_muted' : 'member_unmuted' },
      after: (g) => g,
    });
  });
};

const handleTransfer: Handler = async (deps, ctx) => {
  const req = decodeBody(CommandId.GROUP_TRANSFER_OWNER_REQ, ctx.req.body);
  await answerRoleChange(ctx, CommandId.GROUP_TRANSFER_OWNER_RSP, req.groupId, (groupId) => {
    const to = toId(req.newOwnerId, 'new_owner_id');
    return runChange(deps, ctx, groupId, {
      decide: (group, states) => {
        // Already so (a retry after a timeout finds the transfer done): 200, nothing announced,
        // before the owner check, which the old owner no longer passes. Members only: a stranger
        // learns nothing about who owns the group.
        if (to === group.ownerUserId && standing(group, states, ctx.userId).member) return false;
        if (group.ownerUserId !== ctx.userId)
          refuse('IM_ERR_FORBIDDEN', 'only the owner may transfer the group');
        memberOf(states, to);
        return true;
      },
      apply: () => deps.store.groups.transferOwner(groupId, to),
      kind: Kind.GROUP_CHANGE_KIND_OWNER_TRANSFERRED,
      userIds: [to],
      notice: { change: 'owner_transferred', previousOwner: String(ctx.userId) },
      after: (g) => ({ ...g, ownerUserId: to }),
    });
  });
};

const handleRoles: Handler = async (deps, ctx) => {
  const req = decodeBody(CommandId.GROUP_ROLES_REQ, ctx.req.body);
  let groupId = 0;
  let rsp: CIM.GroupExt.IMqimGroupRolesRsp;
  try {
    groupId = toId(req.groupId, 'group_id');
    const group = await activeGroup(deps, groupId);
    const states = await deps.store.groups.memberStates(groupId);
    // Strangers learn nothing about who runs a group.
    if (!states.some((m) => m.userId === ctx.userId))
      refuse('IM_ERR_FORBIDDEN', 'not a member of this group');
    rsp = {
      groupId,
      resultCode: OK,
      ownerId: group.ownerUserId,
      adminIds: states.filter((m) => m.admin).map((m) => m.userId),
      mutedAll: group.muteModel === MUTE_ALL,
      mutedIds: states.filter((m) => m.muted).map((m) => m.userId),
    };
  } catch (err) {
    rsp = { groupId, resultCode: resultOf(err) };
  }
  await ctx.reply(CommandId.GROUP_ROLES_RSP, CIM.GroupExt.MqimGroupRolesRsp.encode(rsp).finish());
};

/**
 * Read receipts of the requester's own messages in a group: how many other current members' read
 * marks (moved by their 0x0303 read acks) reached each, and who, in groups of at most
 * READERS_LISTED_MAX_MEMBERS. Ids that are not the requester's messages in this group are left out.
 */
const handleReadReceipts: Handler = async (deps, ctx) => {
  const req = decodeBody(CommandId.GROUP_READ_RECEIPTS_REQ, ctx.req.body);
  let groupId = 0;
  let rsp: CIM.GroupExt.IMqimGroupReadReceiptsRsp;
  try {
    groupId = toId(req.groupId, 'group_id');
    if (req.msgIds.length > READ_RECEIPTS_MAX_IDS)
      refuse('IM_ERR_PAYLOAD_TOO_LARGE', `at most ${READ_RECEIPTS_MAX_IDS} msg_ids per request`);
    const ids = [...new Set(toIds(req.msgIds, 'msg_ids'))].filter((id) => id > 0);
    await activeGroup(deps, groupId);
    if (!(await deps.store.groups.isMember(groupId, ctx.userId)))
      refuse('IM_ERR_FORBIDDEN', 'not a member of this group');
    // By exact id (an id of 2^53-1 has no `id + 1` to page before).
    const found = await Promise.all(
      ids.map(async (id) => {
        const m = await deps.store.messages.get(ctx.userId, 2, groupId, id);
        return m && m.fromUserId === ctx.userId ? m : undefined;
      }),
    );
    const mine = found.filter((m): m is MessageRecord => m !== undefined);
    const counts = await deps.store.groups.readers(groupId, mine, Number.MAX_SAFE_INTEGER);
    rsp = {
      groupId,
      resultCode: OK,
      receipts: mine.map((m, i) => {
        const c = counts[i]!;
        const listed = c.otherMembers + 1 <= READERS_LISTED_MAX_MEMBERS;
        return {
          msgId: m.serverMsgId,
          readCount: c.readCount,
          unreadCount: c.otherMembers - c.readCount,
          readerIds: listed ? c.readerIds : [],
          readersListed: listed,
        };
      }),
    };
  } catch (err) {
    rsp = { groupId, resultCode: resultOf(err) };
  }
  await ctx.reply(
    CommandId.GROUP_READ_RECEIPTS_RSP,
    CIM.GroupExt.MqimGroupReadReceiptsRsp.encode(rsp).finish(),
  );
};

export const groupRoleHandlers: [number, Handler][] = [
  [CommandId.GROUP_SET_ADMIN_REQ, handleSetAdmin],
  [CommandId.GROUP_RENAME_REQ, handleRename],
  [CommandId.GROUP_MUTE_ALL_REQ, handleMuteAll],
  [CommandId.GROUP_MUTE_MEMBER_REQ, handleMuteMember],
  [CommandId.GROUP_TRANSFER_OWNER_REQ, handleTransfer],
  [CommandId.GROUP_ROLES_REQ, handleRoles],
  [CommandId.GROUP_READ_RECEIPTS_REQ, handleReadReceipts],
];
