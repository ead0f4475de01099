import { CIM, toId, type IdInput } from '@mqim/protocol/client';
import type { ServerErrorDetail } from './im.errors';
import {
  MsgType,
  RECALLED_STATUS,
  SessionType,
  type GroupInfo,
  type RecallNotice,
  type SyncConversation,
  type SyncCursor,
  type GroupMemberChanged,
  type GroupVersion,
  type ImMessage,
  type ReadNotify,
  type RecentSession,
  type UserInfo,
} from './im.types';

// Decoded bodies to the SDK's plain types. Nested messages come typed as optional properties, so
// absent fields read as proto3 defaults. uint64 ids go through toId, which refuses (rather than
// rounds) anything above 2^53; the server never assigns such ids.

type UserProps = CIM.Def.CIMUserInfo.$Properties;
type MsgDataProps = CIM.Message.CIMMsgData.$Properties;
type MsgInfoProps = CIM.Def.CIMMsgInfo.$Properties;
type SessionProps = CIM.Def.CIMContactSessionInfo.$Properties;
type GroupProps = CIM.Group.CIMGroupInfo.$Properties;

export function toUserInfo(user: UserProps | null | undefined): UserInfo {
  return {
    userId: id(user?.userId, 'user_id'),
    nickName: user?.nickName ?? '',
    nickNameSpell: user?.nickNameSpell ?? '',
    phone: user?.phone ?? '',
    avatarUrl: user?.avatarUrl ?? '',
    attachInfo: user?.attachInfo ?? '',
  };
}

/** A pushed message (0x0301 S→C). */
export function fromMsgData(msg: MsgDataProps, me: number): ImMessage {
  return toMessage(msg, msg.msgData, me, { fromNickName: msg.fromNickName ?? '', status: 0, attach: '' });
}

/** A stored message (history, by id). */
export function fromMsgInfo(msg: MsgInfoProps, me: number): ImMessage {
  return toMessage(msg, msg.msgData, me, {
    fromNickName: '',
    status: msg.msgStatus ?? 0,
    attach: msg.attach ?? '',
  });
}

export function toRecentSession(s: SessionProps): RecentSession {
  const serverMsgId = id(s.serverMsgId, 'server_msg_id');
  const clientMsgId = s.msgId ?? '';
  const data = copyBytes(s.msgData);
  const msgType = s.msgType ?? 0;
  return {
    sessionId: id(s.sessionId, 'session_id'),
    sessionType: s.sessionType ?? 0,
    status: s.sessionStatus ?? 0,
    unreadCount: s.unreadCnt ?? 0,
    updatedTime: s.updatedTime ?? 0,
    lastMessage:
      serverMsgId === 0 && clientMsgId === ''
        ? undefined
        : {
            clientMsgId,
            serverMsgId,
            fromUserId: id(s.msgFromUserId, 'msg_from_user_id'),
            createTime: s.msgTimeStamp ?? 0,
            msgType,
            status: s.msgStatus ?? 0,
            data,
            text: textOf(msgType, data),
            attach: s.msgAttach ?? '',
          },
    isRobot: s.isRobotSession ?? false,
  };
}

export function toGroupInfo(g: GroupProps | null | undefined): GroupInfo {
  return {
    groupId: id(g?.groupId, 'group_id'),
    name: g?.groupName ?? '',
    groupType: g?.groupType ?? 0,
    joinModel: g?.joinModel ?? 0,
    beInviteModel: g?.beInviteModel ?? 0,
    muteModel: g?.muteModel ?? 0,
    ownerId: id(g?.groupOwnerId, 'group_owner_id'),
    createTime: g?.createTime ?? 0,
    updateTime: g?.updateTime ?? 0,
    intro: g?.groupIntro ?? '',
    announcement: g?.announcement ?? '',
    avatar: g?.groupAvatar ?? '',
  };
}

export function toGroupVersion(v: CIM.Group.CIMGroupVersionInfo.$Properties): GroupVersion {
  return { groupId: id(v.groupId, 'group_id'), version: v.groupVersion ?? 0 };
}

export function toGroupMemberChanged(
  n: CIM.Group.CIMGroupMemberChangedNotify.$Properties,
): GroupMemberChanged {
  return {
    groupId: id(n.groupId, 'group_id'),
    userId: id(n.userId, 'user_id'),
    changes: (n.changedList ?? []).map((c) => ({ userId: id(c.userId, 'user_id'), type: c.type ?? 0 })),
  };
}

export function toReadNotify(n: CIM.Message.CIMMsgDataReadNotify.$Properties, me: number): ReadNotify {
  const readerId = id(n.userId, 'user_id');
  const sessionType = n.sessionType ?? 0;
  return {
    readerId,
    sessionType,
    // In a single chat the peer's notify names us as the session; we file it under the peer.
    sessionId:
      sessionType === SessionType.SINGLE && readerId !== me ? readerId : id(n.sessionId, 'session_id'),
    msgId: id(n.msgId, 'msg_id'),
  };
}

export function toServerErrorDetail(n: CIM.Ext.MqimErrorNotify.$Properties): ServerErrorDetail {
  return {
    errorCode: n.errorCode ?? 0,
    errorName: n.errorName ?? '',
    text: n.text ?? '',
    requestCmd: n.requestCmd ?? 0,
    requestSeq: n.requestSeq ?? 0,
  };
}

/** Optional bytes: undefined when empty (proto3 cannot tell "empty" from "absent"). */
export function optionalBytes(bytes: Uint8Array | null | undefined): Uint8Array | undefined {
  return bytes == null || bytes.length === 0 ? undefined : copyBytes(bytes);
}

/** An id field; absent reads as 0, as proto3 would decode it. */
export function id(value: IdInput | null | undefined, field: string): number {
  return value == null ? 0 : toId(value, field);
}

interface MessageFields {
  clientMsgId?: string | null;
  serverMsgId?: IdInput | null;
  sessionType?: number | null;
  fromUserId?: IdInput | null;
  toSessionId?: IdInput | null;
  createTime?: number | null;
  msgType?: number | null;
}

function toMessage(
  msg: MessageFields,
  bytes: Uint8Array | null | undefined,
  me: number,
  extra: Pick<ImMessage, 'fromNickName' | 'status' | 'attach'>,
): ImMessage {
  const fromUserId = id(msg.fromUserId, 'from_user_id');
  const toSessionId = id(msg.toSessionId, 'to_session_id');
  const sessionType = msg.sessionType ?? 0;
  const msgType = msg.msgType ?? 0;
  const data = copyBytes(bytes);
  return {
    clientMsgId: msg.clientMsgId ?? '',
    serverMsgId: id(msg.serverMsgId, 'server_msg_id'),
    sessionType,
    fromUserId,
    toSessionId,
    sessionId: sessionType === SessionType.SINGLE && fromUserId !== me ? fromUserId : toSessionId,
    createTime: msg.createTime ?? 0,
    msgType,
    data,
    text: textOf(msgType, data),
    ...extra,
    recalled: extra.status === RECALLED_STATUS,
  };
}

type RecallNotifyProps = CIM.Ext.MqimRecallNotify.$Properties;

export function toRecallNotice(n: RecallNotifyProps, me: number): RecallNotice {
  const sessionType = n.sessionType ?? 0;
  const fromUserId = id(n.fromUserId, 'from_user_id');
  const toSessionId = id(n.toSessionId, 'to_session_id');
  return {
    sessionType,
    sessionId: sessionType === SessionType.SINGLE && fromUserId !== me ? fromUserId : toSessionId,
    serverMsgId: id(n.serverMsgId, 'server_msg_id'),
    clientMsgId: n.clientMsgId ?? '',
    fromUserId,
    recalledBy: id(n.recalledBy, 'recalled_by'),
    recalledAt: n.recalledAt ?? 0,
    noticeMsgId: id(n.noticeMsgId, 'notice_msg_id'),
  };
}

type SyncConversationProps = CIM.Ext.MqimSyncConversation.$Properties;
type SyncCursorProps = CIM.Ext.MqimSyncCursor.$Properties;

export function toSyncConversation(c: SyncConversationProps, me: number): SyncConversation {
  return {
    sessionType: c.sessionType ?? 0,
    sessionId: id(c.sessionId, 'session_id'),
    messages: (c.msgList ?? []).map((m) => fromMsgInfo(m, me)),
    hasMore: c.hasMore ?? false,
    unreadCount: c.unreadCnt ?? 0,
  };
}

export function toSyncCursor(c: SyncCursorProps | null | undefined): SyncCursor {
  return {
    positions: (c?.positions ?? []).map((p) => ({
      sessionType: p.sessionType ?? 0,
      sessionId: id(p.sessionId, 'session_id'),
      serverMsgId: id(p.serverMsgId, 'server_msg_id'),
    })),
  };
}

// Decoded bytes may be views into the socket's read buffer; the app may keep messages for long.
function copyBytes(bytes: Uint8Array | null | undefined): Uint8Array {
  return bytes == null ? new Uint8Array(0) : new Uint8Array(bytes);
}

const utf8 = new TextDecoder();

function textOf(msgType: number, data: Uint8Array): string | undefined {
  return msgType === MsgType.TEXT ? utf8.decode(data) : undefined;
}
