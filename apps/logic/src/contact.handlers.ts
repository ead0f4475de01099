import { CIM, CommandId, MqimError, conversationKey, decodeBody, toId, SessionType } from '@mqim/protocol';
import type { RatePolicy } from '@mqim/cache';
import type { ContactState, FriendRequestRecord, UserRecord } from '@mqim/store';
import type { LogicDeps } from './logic-deps';
import { toUserInfo } from './mappers';
import type { RequestContext } from './request-context';

/**
 * Contacts and profile (issue 12, docs/adr/0014): friend requests, answers, removal, blocks, the
 * contact list (0x0601) and profile changes. Every change is one store transaction that is
 * idempotent (a redelivered request finds the state it made and answers the same), then notices
 * to the peer's and the actor's other devices through the job (never stored: a device that was
 * offline reads the state back with 0x0601 / 0x082F).
 */

/** Friends one user may have; requests beyond it are refused with IM_ERR_CONTACT_LIMIT. */
export const MAX_CONTACTS = 5_000;
/** Unanswered requests one user may have sent. */
export const MAX_OUTGOING_REQUESTS = 200;
const MAX_NOTE = 256;
/** Friend requests one user may send, across every logic (each one notifies its target). */
export const FRIEND_REQUESTS_PER_USER: RatePolicy = { perSecond: 0.5, burst: 20 };

const OK = 200;
const STATE: Record<ContactState, CIM.Social.MqimContactState> = {
  none: CIM.Social.MqimContactState.CONTACT_STATE_NONE,
  requested: CIM.Social.MqimContactState.CONTACT_STATE_REQUESTED,
  pending: CIM.Social.MqimContactState.CONTACT_STATE_PENDING,
  friends: CIM.Social.MqimContactState.CONTACT_STATE_FRIENDS,
  blocked: CIM.Social.MqimContactState.CONTACT_STATE_BLOCKED,
};

function peerOf(value: unknown, me: number, field: string): number {
  const peer = toId(value as number, field);
  if (peer === 0) throw new MqimError('IM_ERR_INVALID_ARGUMENT', `${field} is required`);
  if (peer === me) throw new MqimError('IM_ERR_INVALID_ARGUMENT', `${field} cannot be yourself`);
  return peer;
}

async function existingUser(deps: LogicDeps, userId: number): Promise<UserRecord> {
  const user = await deps.store.users.findById(userId);
  if (!user) throw new MqimError('IM_ERR_NOT_FOUND', `user ${userId} does not exist`);
  return user;
}

function changeRsp(ctx: RequestContext, cmd: number, peer: number, state: ContactState): Promise<void> {
  return ctx.reply(
    cmd,
    CIM.Social.MqimContactChangeRsp.encode({
      resultCode: OK,
      peerUserId: peer,
      state: STATE[state],
    }).finish(),
  );
}

/** A 0x0831 to `userIds` (every device; the actor's requesting connection excluded). */
function notifyContact(
  deps: LogicDeps,
  ctx: RequestContext,
  userIds: number[],
  peer: number,
  notice: CIM.Social.IMqimContactNotify,
): Promise<void> {
  return deps.intents.publish(
    {
      userIds,
      cmd: CommandId.CONTACT_NOTIFY,
      body: CIM.Social.MqimContactNotify.encode(notice).finish(),
      excludeGateId: ctx.gateId,
      excludeConnId: ctx.connId,
      originAtMs: ctx.receivedAtMs,
    },
    conversationKey(SessionType.SINGLE, ctx.userId, peer),
  );
}

function requestInfo(r: FriendRequestRecord, from?: UserRecord): CIM.Social.IMqimFriendRequestInfo {
  return {
    fromUserId: r.fromUserId,
    toUserId: r.toUserId,
    note: r.note,
    createdAt: r.createdAt,
    ...(from ? { fromUserInfo: toUserInfo(from) } : {}),
  };
}

/** 0x0827: ask a user to become a contact; a request the other side had already sent completes the pair. */
export async function handleFriendRequest(deps: LogicDeps, ctx: RequestContext): Promise<void> {
  const req = decodeBody(CommandId.FRIEND_REQUEST_REQ, ctx.req.body);
  const me = ctx.userId;
  const peer = peerOf(req.toUserId, me, 'to_user_id');
  if ([...req.note].length > MAX_NOTE)
    throw new MqimError('IM_ERR_PAYLOAD_TOO_LARGE', `note is longer than ${MAX_NOTE} characters`);
  if ((await deps.cache.rates.take(`friend-request:${me}`, 1, FRIEND_REQUESTS_PER_USER)) < 1)
    throw new MqimError('IM_ERR_USER_RATE_LIMITED', 'too many friend requests; retry later');
  const peerUser = await existingUser(deps, peer);
  const state = await deps.store.contacts.state(me, peer);
  if (state === 'none') {
    if ((await deps.store.contacts.friendIds(me, MAX_CONTACTS)).length >= MAX_CONTACTS)
      throw new MqimError('IM_ERR_CONTACT_LIMIT', `at most ${MAX_CONTACTS} contacts`);
    if (
      (await deps.store.contacts.requests(me, MAX_OUTGOING_REQUESTS)).outgoing.length >= MAX_OUTGOING_REQUESTS
    )
      throw new MqimError('IM_ERR_CONTACT_LIMIT', `at most ${MAX_OUTGOING_REQUESTS} unanswered requests`);
  }
  const outcome = await deps.store.contacts.request(me, peer, req.note);
  if (outcome === 'blocked')
    throw new MqimError('IM_ERR_BLOCKED', `user ${peer} does not accept requests from you`);
  if (outcome === 'blocking')
    throw new MqimError('IM_ERR_FORBIDDEN', `you block user ${peer}; unblock them first`);
  const meUser = await existingUser(deps, me);
  if (outcome === 'requested') {
    const [pending] = (await deps.store.contacts.requests(peer, 1000)).incoming.filter(
      (r) => r.fromUserId === me,
    );
    await notifyContact(deps, ctx, [peer], peer, {
      event: CIM.Social.MqimContactEvent.CONTACT_EVENT_REQUESTED,
      peerUserId: me,
      peerUserInfo: toUserInfo(meUser),
      request: requestInfo(
        pending ?? {
          fromUserId: me,
          toUserId: peer,
          note: req.note,
          createdAt: Math.floor(Date.now() / 1000),
        },
        meUser,
      ),
    });
  } else if (outcome === 'accepted') {
    await announceFriends(deps, ctx, meUser, peerUser);
  }
  await changeRsp(ctx, CommandId.FRIEND_REQUEST_RSP, peer, outcome === 'requested' ? 'requested' : 'friends');
}

/** Both sides learn they are contacts now (the actor's other devices included). */
function announceFriends(deps: LogicDeps, ctx: RequestContext, meUser: UserRecord, peerUser: UserRecord) {
  const event = CIM.Social.MqimContactEvent.CONTACT_EVENT_ACCEPTED;
  return Promise.all([
    notifyContact(deps, ctx, [peerUser.userId], peerUser.userId, {
      event,
      peerUserId: meUser.userId,
      peerUserInfo: toUserInfo(meUser),
    }),
    notifyContact(deps, ctx, [meUser.userId], peerUser.userId, {
      event,
      peerUserId: peerUser.userId,
      peerUserInfo: toUserInfo(peerUser),
    }),
  ]);
}

/** 0x0829: accept or decline a request made to me. */
export async function handleFriendRespond(deps: LogicDeps, ctx: RequestContext): Promise<void> {
  const req = decodeBody(CommandId.FRIEND_RESPOND_REQ, ctx.req.body);
  const me = ctx.userId;
  const peer = peerOf(req.fromUserId, me, 'from_user_id');
  if (req.accept && (await deps.store.contacts.friendIds(me, MAX_CONTACTS)).length >= MAX_CONTACTS)
    throw new MqimError('IM_ERR_CONTACT_LIMIT', `at most ${MAX_CONTACTS} contacts`);
  const outcome = await deps.store.contacts.respond(me, peer, req.accept);
  if (outcome === 'none') throw new MqimError('IM_ERR_NO_FRIEND_REQUEST', `no request from user ${peer}`);
  if (outcome === 'declined') {
    // The requester learns who declined; my other devices, whose request went.
    await Promise.all([
      notifyContact(deps, ctx, [peer], peer, {
        event: CIM.Social.MqimContactEvent.CONTACT_EVENT_DECLINED,
        peerUserId: me,
      }),
      notifyContact(deps, ctx, [me], peer, {
        event: CIM.Social.MqimContactEvent.CONTACT_EVENT_DECLINED,
        peerUserId: peer,
      }),
    ]);
    await changeRsp(ctx, CommandId.FRIEND_RESPOND_RSP, peer, 'none');
    return;
  }
  // 'friends' is a redelivery (or a retry) of an accept: the notices may not have gone out.
  const [meUser, peerUser] = await Promise.all([existingUser(deps, me), existingUser(deps, peer)]);
  await announceFriends(deps, ctx, meUser, peerUser);
  await changeRsp(ctx, CommandId.FRIEND_RESPOND_RSP, peer, 'friends');
}

/** 0x082B: stop being contacts; both sides are told. Removing a non-contact is a no-op that succeeds. */
export async function handleFriendRemove(deps: LogicDeps, ctx: RequestContext): Promise<void> {
  const req = decodeBody(CommandId.FRIEND_REMOVE_REQ, ctx.req.body);
  const me = ctx.userId;
  const peer = peerOf(req.peerUserId, me, 'peer_user_id');
  // Nothing removed (they were never contacts): nobody is told, so removing strangers cannot be
  // used to send them notices. A redelivery tells them anyway: its first attempt may have
  // removed the pair and failed before the notices went out.
  if ((await deps.store.contacts.remove(me, peer)) || ctx.attempt > 1)
    await Promise.all([
      notifyContact(deps, ctx, [peer], peer, {
        event: CIM.Social.MqimContactEvent.CONTACT_EVENT_REMOVED,
        peerUserId: me,
      }),
      notifyContact(deps, ctx, [me], peer, {
        event: CIM.Social.MqimContactEvent.CONTACT_EVENT_REMOVED,
        peerUserId: peer,
      }),
    ]);
  await changeRsp(ctx, CommandId.FRIEND_REMOVE_RSP, peer, await deps.store.contacts.state(me, peer));
}

/**
 * 0x082D: block or unblock. The blocked user is not told (a block is private); the friendship
 * ends quietly on their side, which they see the next time they list contacts.
 */
export async function handleFriendBlock(deps: LogicDeps, ctx: RequestContext): Promise<void> {
  const req = decodeBody(CommandId.FRIEND_BLOCK_REQ, ctx.req.body);
  const me = ctx.userId;
  const peer = peerOf(req.peerUserId, me, 'peer_user_id');
  await existingUser(deps, peer);
  await deps.store.contacts.setBlocked(me, peer, req.block);
  deps.knownBlocks.changed(me);
  if (req.block)
    await notifyContact(deps, ctx, [me], peer, {
      event: CIM.Social.MqimContactEvent.CONTACT_EVENT_REMOVED,
      peerUserId: peer,
    });
  await changeRsp(ctx, CommandId.FRIEND_BLOCK_RSP, peer, await deps.store.contacts.state(me, peer));
}

/** 0x082F: pending requests both ways (with the requester's profile for incoming ones) and my blocks. */
export async function handleFriendRequestList(deps: LogicDeps, ctx: RequestContext): Promise<void> {
  decodeBody(CommandId.FRIEND_REQUEST_LIST_REQ, ctx.req.body);
  const me = ctx.userId;
  const [{ incoming, outgoing }, blocked] = await Promise.all([
    deps.store.contacts.requests(me, MAX_OUTGOING_REQUESTS),
    deps.store.contacts.blockedIds(me, MAX_CONTACTS),
  ]);
  const users = new Map(
    (await deps.store.users.findMany(incoming.map((r) => r.fromUserId))).map((u) => [u.userId, u]),
  );
  const rsp = CIM.Social.MqimFriendRequestListRsp.encode({
    incoming: incoming.map((r) => requestInfo(r, users.get(r.fromUserId))),
    outgoing: outgoing.map((r) => requestInfo(r)),
    blockedUserIds: blocked,
  }).finish();
  await ctx.reply(CommandId.FRIEND_REQUEST_LIST_RSP, rsp);
}

/**
 * 0x0601: the caller's contacts. CoffeeChat had no friend graph and listed the first users of
 * the server; mqim answers with the friends only, so the user directory does not leak.
 */
export async function handleFriendList(deps: LogicDeps, ctx: RequestContext): Promise<void> {
  const ids = await deps.store.contacts.friendIds(ctx.userId, MAX_CONTACTS);
  const users = ids.length ? await deps.store.users.findMany(ids) : [];
  const rsp = CIM.Friend.CIMFriendQueryUserListRsp.encode({
    userId: ctx.userId,
    userInfoList: users.map(toUserInfo),
  }).finish();
  await ctx.reply(CommandId.FRIEND_QUERY_USER_LIST_RSP, rsp);
}

const AVATAR_URL = /^https?:\/\/[\x21-\x7e]{1,500}$/;

/** 0x0832: change my nickname and/or avatar URL; contacts and my other devices get 0x0834. */
export async function handleProfileUpdate(deps: LogicDeps, ctx: RequestContext): Promise<void> {
  const req = decodeBody(CommandId.PROFILE_UPDATE_REQ, ctx.req.body);
  const me = ctx.userId;
  if (!req.setNickName && !req.setAvatarUrl)
    throw new MqimError('IM_ERR_INVALID_ARGUMENT', 'nothing to change: set set_nick_name or set_avatar_url');
  if (req.setNickName && (req.nickName.trim() === '' || [...req.nickName].length > 64))
    throw new MqimError('IM_ERR_INVALID_ARGUMENT', 'nick_name must be 1-64 characters');
  if (req.setAvatarUrl && req.avatarUrl !== '' && !AVATAR_URL.test(req.avatarUrl))
    throw new MqimError(
      'IM_ERR_INVALID_ARGUMENT',
      'avatar_url must be an http(s) URL of at most 512 characters, or empty',
    );
  const user = await deps.store.users.update(me, {
    ...(req.setNickName ? { nickName: req.nickName } : {}),
    ...(req.setAvatarUrl ? { avatarUrl: req.avatarUrl } : {}),
  });
  if (!user) throw new MqimError('IM_ERR_NOT_FOUND', `user ${me} does not exist`);
  // This logic's messages carry the new nickname at once (others within their cache's 60 s).
  deps.knownUsers.renamed(me, user.nickName);
  const info = toUserInfo(user);
  const friends = await deps.store.contacts.friendIds(me, MAX_CONTACTS);
  await deps.intents.publish(
    {
      userIds: [me, ...friends],
      cmd: CommandId.PROFILE_NOTIFY,
      body: CIM.Social.MqimProfileNotify.encode({ userInfo: info }).finish(),
      excludeGateId: ctx.gateId,
      excludeConnId: ctx.connId,
      originAtMs: ctx.receivedAtMs,
    },
    `u:${me}`,
  );
  await ctx.reply(
    CommandId.PROFILE_UPDATE_RSP,
    CIM.Social.MqimProfileUpdateRsp.encode({ resultCode: OK, userInfo: info }).finish(),
  );
}
