import { CIM, CommandId, toId } from '@mqim/protocol/client';
import { toUserInfo } from './cim.mapper';
import type {
  ContactChange,
  ContactNotice,
  ContactState,
  FriendRequest,
  FriendRequests,
  Presence,
  ProfileUpdate,
  RequestOptions,
  TypingNotice,
  UserInfo,
} from './im.types';
import { checkId, checkIds, type Requester } from './requester';

// Typing, presence, contacts and profile: mqim extensions 0x0820-0x083F (docs/protocol.md §4).
// A refusal comes as an error notify naming the request, so every call rejects with
// ImRequestFailedError carrying the IM_ERR_* code (IM_ERR_BLOCKED, IM_ERR_NO_FRIEND_REQUEST, ...).

const STATES: Record<number, ContactState> = {
  [CIM.Social.MqimContactState.CONTACT_STATE_NONE]: 'none',
  [CIM.Social.MqimContactState.CONTACT_STATE_REQUESTED]: 'requested',
  [CIM.Social.MqimContactState.CONTACT_STATE_PENDING]: 'pending',
  [CIM.Social.MqimContactState.CONTACT_STATE_FRIENDS]: 'friends',
  [CIM.Social.MqimContactState.CONTACT_STATE_BLOCKED]: 'blocked',
};

const EVENTS: Record<number, ContactNotice['event']> = {
  [CIM.Social.MqimContactEvent.CONTACT_EVENT_REQUESTED]: 'requested',
  [CIM.Social.MqimContactEvent.CONTACT_EVENT_ACCEPTED]: 'accepted',
  [CIM.Social.MqimContactEvent.CONTACT_EVENT_DECLINED]: 'declined',
  [CIM.Social.MqimContactEvent.CONTACT_EVENT_REMOVED]: 'removed',
};

function toChange(body: CIM.Social.IMqimContactChangeRsp): ContactChange {
  return { peerUserId: toId(body.peerUserId ?? 0, 'peer_user_id'), state: STATES[body.state ?? 0] ?? 'none' };
}

export function toPresence(p: CIM.Social.IMqimPresence | null | undefined): Presence {
  return { userId: toId(p?.userId ?? 0, 'user_id'), online: p?.online ?? false, devices: p?.devices ?? 0 };
}

function toRequest(r: CIM.Social.IMqimFriendRequestInfo): FriendRequest {
  return {
    fromUserId: toId(r.fromUserId ?? 0, 'from_user_id'),
    toUserId: toId(r.toUserId ?? 0, 'to_user_id'),
    note: r.note ?? '',
    createdAt: r.createdAt ?? 0,
    ...(r.fromUserInfo ? { fromUser: toUserInfo(r.fromUserInfo) } : {}),
  };
}

export function toContactNotice(n: CIM.Social.IMqimContactNotify): ContactNotice {
  return {
    event: EVENTS[n.event ?? 0] ?? 'unknown',
    peerUserId: toId(n.peerUserId ?? 0, 'peer_user_id'),
    ...(n.peerUserInfo ? { peerUser: toUserInfo(n.peerUserInfo) } : {}),
    ...(n.request ? { request: toRequest(n.request) } : {}),
  };
}

export function toTypingNotice(n: CIM.Social.IMqimTypingNotify): TypingNotice {
  return { fromUserId: toId(n.fromUserId ?? 0, 'from_user_id'), typing: n.state === 1 };
}

export async function presence(
  rq: Requester,
  userIds: number[],
  options?: RequestOptions,
): Promise<Presence[]> {
  const { body } = await rq.call(
    CommandId.PRESENCE_QUERY_REQ,
    () => ({ userIds: checkIds(userIds, 'userIds') }),
    CommandId.PRESENCE_QUERY_RSP,
    options,
  );
  return body.presenceList.map(toPresence);
}

export async function subscribePresence(
  rq: Requester,
  subscribe: boolean,
  options?: RequestOptions,
): Promise<Presence[]> {
  const { body } = await rq.call(
    CommandId.PRESENCE_SUBSCRIBE_REQ,
    () => ({ subscribe }),
    CommandId.PRESENCE_SUBSCRIBE_RSP,
    options,
  );
  return body.presenceList.map(toPresence);
}

export async function requestFriend(
  rq: Requester,
  userId: number,
  note: string,
  options?: RequestOptions,
): Promise<ContactChange> {
  const { body } = await rq.call(
    CommandId.FRIEND_REQUEST_REQ,
    () => ({ toUserId: checkId(userId, 'userId'), note }),
    CommandId.FRIEND_REQUEST_RSP,
    options,
  );
  return toChange(body);
}

export async function respondFriend(
  rq: Requester,
  fromUserId: number,
  accept: boolean,
  options?: RequestOptions,
): Promise<ContactChange> {
  const { body } = await rq.call(
    CommandId.FRIEND_RESPOND_REQ,
    () => ({ fromUserId: checkId(fromUserId, 'fromUserId'), accept }),
    CommandId.FRIEND_RESPOND_RSP,
    options,
  );
  return toChange(body);
}

export async function removeFriend(
  rq: Requester,
  userId: number,
  options?: RequestOptions,
): Promise<ContactChange> {
  const { body } = await rq.call(
    CommandId.FRIEND_REMOVE_REQ,
    () => ({ peerUserId: checkId(userId, 'userId') }),
    CommandId.FRIEND_REMOVE_RSP,
    options,
  );
  return toChange(body);
}

export async function blockUser(
  rq: Requester,
  userId: number,
  block: boolean,
  options?: RequestOptions,
): Promise<ContactChange> {
  const { body } = await rq.call(
    CommandId.FRIEND_BLOCK_REQ,
    () => ({ peerUserId: checkId(userId, 'userId'), block }),
    CommandId.FRIEND_BLOCK_RSP,
    options,
  );
  return toChange(body);
}

export async function friendRequests(rq: Requester, options?: RequestOptions): Promise<FriendRequests> {
  const { body } = await rq.call(
    CommandId.FRIEND_REQUEST_LIST_REQ,
    () => ({}),
    CommandId.FRIEND_REQUEST_LIST_RSP,
    options,
  );
  return {
    incoming: body.incoming.map(toRequest),
    outgoing: body.outgoing.map(toRequest),
    blockedUserIds: body.blockedUserIds.map((id) => toId(id, 'blocked_user_ids')),
  };
}

export async function updateProfile(
  rq: Requester,
  update: ProfileUpdate,
  options?: RequestOptions,
): Promise<UserInfo> {
  const { body } = await rq.call(
    CommandId.PROFILE_UPDATE_REQ,
    () => ({
      setNickName: update.nickName !== undefined,
      nickName: update.nickName ?? '',
      setAvatarUrl: update.avatarUrl !== undefined,
      avatarUrl: update.avatarUrl ?? '',
    }),
    CommandId.PROFILE_UPDATE_RSP,
    options,
  );
  return toUserInfo(body.userInfo);
}
