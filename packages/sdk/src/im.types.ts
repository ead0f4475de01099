/**
 * The data the SDK hands to applications. Ids are JS numbers (the server keeps them below 2^53);
 * timestamps are Unix seconds, as on the wire.
 */

import { SessionType } from '@mqim/protocol/client';

/** `CIMSessionType`: who a conversation is with (defined once, in the protocol). */
export { SessionType };

/** `CIMMsgType`: how to read `data`. TEXT is UTF-8; most others carry small JSON objects. */
export const MsgType = {
  UNKNOWN: 0,
  TEXT: 1,
  FILE: 2,
  IMAGE: 3,
  AUDIO: 4,
  VIDEO: 5,
  LOCATION: 6,
  ROBOT: 7,
  TIPS: 8,
  NOTIFICATION: 9,
  AVCHAT: 10,
} as const;
export type MsgType = (typeof MsgType)[keyof typeof MsgType];

/** `CIMClientType`, sent at login. */
export const ClientType = {
  DEFAULT: 0,
  ANDROID: 1,
  IOS: 2,
  WEB: 3,
  REST_API: 4,
  PC_WINDOWS: 5,
  MAC_OS: 6,
} as const;
export type ClientType = (typeof ClientType)[keyof typeof ClientType];

export interface UserInfo {
  userId: number;
  nickName: string;
  nickNameSpell: string;
  phone: string;
  avatarUrl: string;
  attachInfo: string;
}

export interface LoginResult {
  user: UserInfo;
  /** The server's clock at login (Unix seconds). */
  serverTime: number;
}

/** A chat message, whether pushed (`message` event) or read back (history, by id). */
export interface ImMessage {
  clientMsgId: string;
  serverMsgId: number;
  sessionType: number;
  fromUserId: number;
  /** The peer user (single chat) or the group, as the sender addressed it. */
  toSessionId: number;
  /**
   * The conversation as seen by the logged-in user: the group, or in a single chat the other
   * user (the sender for incoming messages, `toSessionId` for one's own). Use it to file the
   * message and to call `markRead` / `history`.
   */
  sessionId: number;
  createTime: number;
  msgType: number;
  data: Uint8Array;
  /** `data` decoded as UTF-8 when `msgType` is TEXT. */
  text: string | undefined;
  /** Set on pushed messages (CIMMsgData); empty for history. */
  fromNickName: string;
  /** Set on history (CIMMsgInfo.msg_status); 0 on pushed messages. */
  status: number;
  /** Set on history (CIMMsgInfo.attach); empty on pushed messages. */
  attach: string;
  /**
   * Read back (history, sync) recalled: `status` is {@link RECALLED_STATUS} and `data` is empty,
   * the body withheld. Pushed messages are never recalled yet; a later recall arrives as the
   * `recalled` event.
   */
  recalled: boolean;
}

/** `status` of a recalled message read back: CIMMsgStatus SEND_CANCEL. */
export const RECALLED_STATUS = 8;

/** Where a client has a conversation up to (inclusive). */
export interface SyncPosition {
  sessionType: number;
  /** The peer user (single chat) or the group. */
  sessionId: number;
  serverMsgId: number;
}

/**
 * The client-held sync cursor (0x0812): keep the one of the last `sync()` (e.g. persisted next to
 * the app's message store) and pass it back after a reconnect. A conversation without a position
 * is synced from its start; `{ positions: [] }` syncs everything.
 */
export interface SyncCursor {
  positions: SyncPosition[];
}

export interface SyncConversation {
  sessionType: number;
  sessionId: number;
  /** Ascending, strictly after the cursor's position; recalled ones marked. */
  messages: ImMessage[];
  /** More of this conversation follow on the next page. */
  hasMore: boolean;
  unreadCount: number;
}

export interface SyncPage {
  conversations: SyncConversation[];
  /** The cursor advanced past this page: pass it to the next `sync()`. */
  cursor: SyncCursor;
  hasMore: boolean;
}

export interface SyncQuery {
  /** @default the server's (20; at most 100) */
  maxConversations?: number;
  /** Messages per conversation per page. @default the server's (50; at most its history limit) */
  maxMessages?: number;
}

export interface SyncConversationQuery extends SessionRef {
  /** Only messages strictly newer than this server id; 0 = from the start. */
  afterServerMsgId: number;
  /** @default the server's history limit */
  limit?: number;
}

export interface SyncConversationPage {
  messages: ImMessage[];
  /** Page on with the last message's serverMsgId. */
  hasMore: boolean;
}

export interface RecallInput extends SessionRef {
  serverMsgId: number;
}

export interface RecallResult {
  /** Unix seconds of the recall (the first one, if it was recalled already). */
  recalledAt: number;
}

/** A message of one of our conversations was recalled (0x0816), by its sender or a group owner. */
export interface RecallNotice {
  sessionType: number;
  /** The conversation from our view: the group, or the other user of a single chat. */
  sessionId: number;
  serverMsgId: number;
  clientMsgId: string;
  /** The recalled message's sender. */
  fromUserId: number;
  recalledBy: number;
  recalledAt: number;
  /** The recall's TIPS notice stored in the conversation (also delivered as a `message`). */
  noticeMsgId: number;
}

export interface SendInput {
  /** The peer user (single chat) or the group. */
  to: number;
  /** @default SessionType.SINGLE */
  sessionType?: number;
  /** UTF-8 text; give either `text` or `data`. */
  text?: string;
  data?: Uint8Array;
  /** @default MsgType.TEXT */
  msgType?: number;
  /**
   * The message's idempotency key. Retrying with the same id after a timeout or a lost
   * connection never stores the message twice; the retry gets the original serverMsgId.
   * @default a fresh UUID
   */
  clientMsgId?: string;
}

/** The server's "stored" ack (0x0302). */
export interface SendResult {
  clientMsgId: string;
  serverMsgId: number;
  /** Server time the message was stored with (Unix seconds). */
  createTime: number;
}

export interface RecentSession {
  sessionId: number;
  sessionType: number;
  status: number;
  unreadCount: number;
  updatedTime: number;
  /** The newest message; undefined for a session without one. */
  lastMessage: SessionLastMessage | undefined;
  isRobot: boolean;
}

export interface SessionLastMessage {
  clientMsgId: string;
  serverMsgId: number;
  fromUserId: number;
  createTime: number;
  msgType: number;
  status: number;
  data: Uint8Array;
  text: string | undefined;
  attach: string;
}

export interface RecentSessions {
  /** Sum of every session's unread count. */
  unreadTotal: number;
  /** Newest first. */
  sessions: RecentSession[];
}

export interface HistoryQuery {
  sessionType: number;
  sessionId: number;
  /** Only messages strictly older than this server_msg_id. @default 0 (the newest) */
  endMsgId?: number;
  /** @default 20 (the server caps it) */
  limit?: number;
}

export interface SessionRef {
  sessionType: number;
  sessionId: number;
}

export interface GroupInfo {
  groupId: number;
  name: string;
  groupType: number;
  joinModel: number;
  beInviteModel: number;
  muteModel: number;
  ownerId: number;
  createTime: number;
  updateTime: number;
  intro: string;
  announcement: string;
  avatar: string;
}

export interface GroupVersion {
  groupId: number;
  version: number;
}

export interface CreateGroupInput {
  name: string;
  /** The other members; the creator joins as owner. */
  memberIds: number[];
}

export interface CreateGroupResult {
  group: GroupInfo;
  memberIds: number[];
  /** attach_notification_msg as sent by the server; undefined when empty. */
  notification: Uint8Array | undefined;
}

/** Result of disband, exit, invite and kick. */
export interface GroupChangeResult {
  groupId: number;
  notification: Uint8Array | undefined;
}

/** A group's owner, admins and mutes (0x084B, ADR 0015). */
export interface GroupRoles {
  groupId: number;
  ownerId: number;
  adminIds: number[];
  /** Mute-all: only the owner and admins may send. */
  mutedAll: boolean;
  mutedIds: number[];
}

/** Who read one of your group messages (0x084D), from the members' read acks. */
export interface GroupReadReceipt {
  msgId: number;
  /** Members other than you whose read mark reached the message. */
  readCount: number;
  unreadCount: number;
  /** The readers, ascending; empty when `readersListed` is false (groups over 200 members). */
  readerIds: number[];
  readersListed: boolean;
}

/** `readNotify` event (0x0304). */
export interface ReadNotify {
  /** Who read. */
  readerId: number;
  sessionType: number;
  /**
   * The conversation as seen by the logged-in user: in a single chat read by the peer, the
   * peer; otherwise the session_id on the wire (the group, or the peer one's other device read).
   */
  sessionId: number;
  /** Newest server_msg_id read; 0 = the whole session. */
  msgId: number;
}

export const GroupMemberChangeType = { DEFAULT: 0, ADD: 1, DEL: 2 } as const;

/** `groupMemberChanged` event (0x0515). */
export interface GroupMemberChanged {
  groupId: number;
  /** The user_id field of the notify (the user it is addressed to, or who made the change). */
  userId: number;
  changes: Array<{ userId: number; type: number }>;
}

/** `kickedOut` event (0x0801): the server is about to close the connection on purpose. */
export interface KickOutNotice {
  /** See `KickOutReason` in @mqim/protocol: 1 logged in elsewhere, 2 kicked by admin, 3 shutdown, 4 policy. */
  reason: number;
  text: string;
}

export interface DisconnectInfo {
  reason: string;
  /** True when the client will try to reconnect (and re-login) by itself. */
  willReconnect: boolean;
  error: Error | undefined;
}

export interface ReconnectingInfo {
  /** 1 for the first attempt after a disconnect. */
  attempt: number;
  delayMs: number;
  /** Why the previous attempt failed; undefined before the first attempt. */
  error?: Error;
}

export interface ReconnectedInfo {
  user: UserInfo;
  /** How many attempts it took. */
  attempts: number;
  /** The gate it is connected to now. */
  url: string;
  /** Missed messages the sync emitted as `message` events (0 without `syncOnReconnect`). */
  synced: number;
}

/** Per-call options of request methods. */
export interface RequestOptions {
  /** @default the client's requestTimeoutMs */
  timeoutMs?: number;
}

/** Where the client is in its life cycle. */
export type ImClientState =
  'idle' | 'connecting' | 'connected' | 'loggedIn' | 'reconnecting' | 'disconnected' | 'closed';

// ---- typing, presence, contacts, profile (mqim extensions 0x0820-0x083F) ----

/** How the logged-in user stands with another user. */
export type ContactState = 'none' | 'requested' | 'pending' | 'friends' | 'blocked';

/** The answer to a contact change: the state it left. */
export interface ContactChange {
  peerUserId: number;
  state: ContactState;
}

/** Online while any device of the user is connected, on any gate. */
export interface Presence {
  userId: number;
  online: boolean;
  /** Connections (devices) the user has open. */
  devices: number;
}

export interface FriendRequest {
  fromUserId: number;
  toUserId: number;
  note: string;
  /** Unix seconds. */
  createdAt: number;
  /** The requester's profile (incoming requests). */
  fromUser?: UserInfo;
}

export interface FriendRequests {
  /** Requests waiting for your answer. */
  incoming: FriendRequest[];
  /** Your requests waiting for theirs. */
  outgoing: FriendRequest[];
  blockedUserIds: number[];
}

/** A change of your contacts (0x0831), made by the peer or by you on another device. */
export interface ContactNotice {
  event: 'requested' | 'accepted' | 'declined' | 'removed' | 'unknown';
  peerUserId: number;
  peerUser?: UserInfo;
  /** With `requested`. */
  request?: FriendRequest;
}

export interface TypingNotice {
  fromUserId: number;
  /** false: stopped typing. */
  typing: boolean;
}

/** Fields to change; omitted ones stay as they are. */
export interface ProfileUpdate {
  /** 1-64 characters. */
  nickName?: string;
  /** An http(s) URL of at most 512 characters, or '' to clear it. */
  avatarUrl?: string;
}

/** A message to send later (`scheduleMessage`): a `SendInput` plus when. */
export interface ScheduleInput {
  to: number;
  /** @default SessionType.SINGLE */
  sessionType?: number;
  text?: string;
  data?: Uint8Array;
  /** @default MsgType.TEXT */
  msgType?: number;
  /** Unix ms: in the future, at most 30 days ahead. */
  sendAt: number;
}

/** A scheduled message as the server keeps it (mqim extension 0x0860-0x0867). */
export interface ScheduledMessage {
  scheduleId: number;
  sessionType: number;
  to: number;
  msgType: number;
  data: Uint8Array;
  /** `data` decoded as UTF-8 when `msgType` is TEXT. */
  text: string | undefined;
  /** Unix ms. */
  sendAt: number;
  status: 'pending' | 'firing' | 'sent' | 'cancelled' | 'failed';
  /** Grows with each reschedule. */
  version: number;
  /** Once sent (0 before). */
  serverMsgId: number;
}
