import type { ServerErrorDetail } from './im.errors';
import type {
  ContactChange,
  ContactNotice,
  FriendRequests,
  Presence,
  ProfileUpdate,
  TypingNotice,
  CreateGroupInput,
  CreateGroupResult,
  DisconnectInfo,
  GroupChangeResult,
  GroupInfo,
  GroupReadReceipt,
  GroupRoles,
  GroupMemberChanged,
  GroupVersion,
  HistoryQuery,
  ImClientState,
  ImMessage,
  KickOutNotice,
  LoginResult,
  ReadNotify,
  RecallInput,
  RecallNotice,
  RecallResult,
  SyncConversationPage,
  SyncConversationQuery,
  SyncCursor,
  SyncPage,
  SyncQuery,
  RecentSessions,
  ReconnectedInfo,
  ReconnectingInfo,
  RequestOptions,
  ScheduleInput,
  ScheduledMessage,
  SendInput,
  SendResult,
  SessionRef,
  UserInfo,
} from './im.types';
import type { ReconnectOptions } from './reconnect.policy';

export interface ImClientOptions {
  /**
   * `tcp://host:port` or `ws://host:port/ws` (`wss://` works too), or several gates of one
   * cluster, TCP and WS mixed: the client starts on the first and every reconnect goes to the
   * next one in the list (round robin), so a drained or dead gate is left behind.
   */
  url: string | readonly string[];
  /** @default 10000 */
  connectTimeoutMs?: number;
  /** Per-request deadline; each call can override it. @default 10000 */
  requestTimeoutMs?: number;
  /** Interval of 0x0105 heartbeats once logged in; 0 disables them. @default 20000 */
  heartbeatMs?: number;
  /**
   * Close the connection (and reconnect, if enabled) when nothing has come from the server for
   * this long; 0 disables the check. Checked at each heartbeat.
   * @default 3 × heartbeatMs
   */
  idleTimeoutMs?: number;
  /** Answer every delivered message from someone else with a 0x0302 receipt. @default true */
  autoReceipts?: boolean;
  /**
   * Reconnect after an unexpected disconnect, with exponential backoff and jitter, logging in
   * again with the same credentials; `reconnected` follows. `true` uses the default backoff.
   * Never after `close()`, `logout()`, or a kick-out for logging in elsewhere or by an admin.
   * @default false
   */
  reconnect?: boolean | ReconnectOptions;
  /**
   * After a reconnect, read back what was missed (recent sessions, then history pages newer than
   * what the app was handed) and emit it as `message` events before `reconnected`, each message
   * once: every `message` (pushed or synced) is deduplicated by server_msg_id, and the pushes
   * that arrive during the sync are held and merged in, so each conversation stays in order.
   * Only with `reconnect`. @default true
   */
  syncOnReconnect?: boolean;
  /**
   * A send is not failed for the gate's sake: while reconnecting, or once the gate announced its
   * shutdown (SERVER_SHUTDOWN), `send()` waits for the next gate; a send refused with
   * `IM_ERR_BUSY` by a draining gate, or lost with the connection, is sent again there with the
   * same clientMsgId (stored once). All within the send's own timeout. Only with `reconnect`.
   * @default true
   */
  resendOnReconnect?: boolean;
  /** @default ClientType.DEFAULT (0) */
  clientType?: number;
  /** @default "mqim-sdk/0.1.0" */
  clientVersion?: string;
  /** Sent in CIMAuthTokenReq.nick_name. @default "" */
  nickName?: string;
  /** Largest frame accepted from the server. @default 1048576 */
  maxFrameLength?: number;
  /**
   * How long a refused send (non-OK ack) waits for the error notify that explains it, which the
   * server may send just after the ack.
   * @default 200
   */
  refusalDetailGraceMs?: number;
}

/** Event name → listener arguments. */
export interface ImClientEvents {
  /** A message delivered to us (0x0301), including our own sent from another device. */
  message: [message: ImMessage];
  /** Someone read a conversation up to a message (0x0304). */
  readNotify: [notify: ReadNotify];
  groupMemberChanged: [notify: GroupMemberChanged];
  /**
   * A message of one of our conversations was recalled (0x0816, mqim): drop its body. Its TIPS
   * notice also arrives as a `message`.
   */
  recalled: [notice: RecallNotice];
  /** A peer is typing to us, or stopped (0x0821). */
  typing: [notice: TypingNotice];
  /** A contact's online state, after `subscribePresence()` (0x0826). */
  presence: [presence: Presence];
  /** A friend request, an answer, a removal (0x0831). */
  contact: [notice: ContactNotice];
  /** A contact (or we, on another device) changed their profile (0x0834). */
  profile: [user: UserInfo];
  /** The server is about to close the connection on purpose (0x0801). */
  kickedOut: [notice: KickOutNotice];
  /** An error notify (0x0802) that refers to no request in flight. */
  serverError: [detail: ServerErrorDetail];
  /** A frame the SDK could not read; the connection stays up. */
  warning: [error: Error];
  disconnected: [info: DisconnectInfo];
  reconnecting: [info: ReconnectingInfo];
  /**
   * Connected and logged in again after a disconnect (possibly on another gate). With
   * `syncOnReconnect` (the default) the messages missed meanwhile have been emitted as `message`
   * events just before; without it, fetch `recentSessions()` / `history()` here to catch up.
   */
  reconnected: [info: ReconnectedInfo];
  /** Reconnecting stopped (attempts exhausted, or the credentials are refused now). */
  reconnectFailed: [error: Error];
}

export type ImClientEventName = keyof ImClientEvents;
export type ImClientListener<E extends ImClientEventName> = (...args: ImClientEvents[E]) => void;

/**
 * A CIM client connection for one user.
 *
 * Requests resolve with the server's answer (matched by seq) or reject with an `ImClientError`.
 * With `reconnect`, `send()` rides out a reconnect (see `resendOnReconnect`); other requests are
 * not queued while disconnected (`IM_ERR_NOT_CONNECTED`) nor retried. A send can always be retried
 * safely with the same clientMsgId. Events are emitted in the order the frames arrive, except
 * that pushes arriving while a reconnect syncs are held and emitted with the synced messages.
 */
export interface ImClient {
  readonly state: ImClientState;
  /** The logged-in user; undefined before the first successful login. */
  readonly user: UserInfo | undefined;
  /** The gate endpoint in use (or tried next while reconnecting). */
  readonly url: string;

  /** Opens the transport. Login methods call it when needed. */
  connect(): Promise<void>;
  /**
   * @throws ImLoginFailedError (2002) with the connection left open for another attempt.
   */
  loginWithToken(userId: number, token: string, options?: RequestOptions): Promise<LoginResult>;
  /**
   * @param passwordPlainOrMd5 the password, or its lower-case hex MD5 (32 hex digits are taken as one).
   * @throws ImLoginFailedError (2003) with the connection left open for another attempt.
   */
  loginWithPassword(
    userName: string,
    passwordPlainOrMd5: string,
    options?: RequestOptions,
  ): Promise<LoginResult>;
  /** Logs out (0x0103) and closes the connection; the client may log in again later. */
  logout(options?: RequestOptions): Promise<void>;

  /**
   * Resolves when the server has stored the message (its 0x0302 ack).
   * @throws ImSendRefusedError, or ImTimeoutError / `IM_ERR_CONNECTION_LOST` (retry with the same clientMsgId).
   */
  send(input: SendInput, options?: RequestOptions): Promise<SendResult>;
  /** Tells the server (and the peer) the conversation is read up to `msgId` (0 = all). No answer. */
  markRead(sessionType: number, sessionId: number, msgId: number): Promise<void>;

  recentSessions(options?: RequestOptions & { updatedSince?: number }): Promise<RecentSessions>;
  /** A page of messages strictly older than `endMsgId`, ascending. */
  history(query: HistoryQuery, options?: RequestOptions): Promise<ImMessage[]>;
  /** clientMsgId of the conversation's newest message; undefined when it has none. */
  latestMsgId(session: SessionRef, options?: RequestOptions): Promise<string | undefined>;
  /** Messages of one conversation by their clientMsgIds. */
  messagesById(
    session: SessionRef & { clientMsgIds: string[] },
    options?: RequestOptions,
  ): Promise<ImMessage[]>;
  /** Your contacts (0x0601): users you are friends with. */
  friends(options?: RequestOptions): Promise<UserInfo[]>;

  /**
   * mqim 0x0810: one conversation's messages strictly after `afterServerMsgId`, ascending; page
   * on with the last one's serverMsgId while `hasMore`. Nothing is skipped or repeated.
   */
  syncConversation(query: SyncConversationQuery, options?: RequestOptions): Promise<SyncConversationPage>;
  /**
   * mqim 0x0812: every conversation that has messages after `cursor` (default: none known, so
   * everything), with those messages; call again with the returned cursor while `hasMore`. Keep
   * the last cursor to catch up after being offline in a few round trips.
   */
  sync(cursor?: SyncCursor, query?: SyncQuery, options?: RequestOptions): Promise<SyncPage>;
  /**
   * mqim 0x0814: recalls a message (one's own, or any in a group one owns or administers) within the server's
   * window. Every device of the conversation gets a `recalled` event.
   * @throws ImRequestFailedError IM_ERR_FORBIDDEN, IM_ERR_NOT_FOUND, IM_ERR_RECALL_WINDOW_PASSED
   */
  recall(input: RecallInput, options?: RequestOptions): Promise<RecallResult>;
  /**
   * Tells `peerUserId` (a contact, or someone you have a conversation with) that you are typing
   * (true) or stopped. Fire and forget; the server drops what exceeds its rate (a `serverError`
   * event with IM_ERR_TYPING_RATE_LIMITED).
   */
  sendTyping(peerUserId: number, typing: boolean): Promise<void>;
  /** Online state of up to 200 users; only yourself and your contacts are answered. */
  presence(userIds: number[], options?: RequestOptions): Promise<Presence[]>;
  /**
   * Starts (or stops) `presence` events about your contacts; resolves with their current state.
   * With `reconnect`, the subscription is renewed on the new connection, and the contacts' state
   * there is emitted as `presence` events just after `reconnected`.
   */
  subscribePresence(subscribe?: boolean, options?: RequestOptions): Promise<Presence[]>;
  /** Asks a user to become a contact ('requested'), or completes their request to you ('friends'). */
  requestFriend(userId: number, note?: string, options?: RequestOptions): Promise<ContactChange>;
  acceptFriend(fromUserId: number, options?: RequestOptions): Promise<ContactChange>;
  declineFriend(fromUserId: number, options?: RequestOptions): Promise<ContactChange>;
  removeFriend(userId: number, options?: RequestOptions): Promise<ContactChange>;
  /** A blocked user cannot send you messages, requests or typing notices (IM_ERR_BLOCKED). */
  blockUser(userId: number, options?: RequestOptions): Promise<ContactChange>;
  unblockUser(userId: number, options?: RequestOptions): Promise<ContactChange>;
  friendRequests(options?: RequestOptions): Promise<FriendRequests>;
  /** Changes your nickname and/or avatar URL; your contacts get a `profile` event. */
  updateProfile(update: ProfileUpdate, options?: RequestOptions): Promise<UserInfo>;

  createGroup(input: CreateGroupInput, options?: RequestOptions): Promise<CreateGroupResult>;
  disbandGroup(groupId: number, options?: RequestOptions): Promise<GroupChangeResult>;
  exitGroup(groupId: number, options?: RequestOptions): Promise<GroupChangeResult>;
  listGroups(options?: RequestOptions): Promise<GroupVersion[]>;
  /** Details of groups, by id or by (id, version) as `listGroups` returns them. */
  groupInfo(groups: Array<number | GroupVersion>, options?: RequestOptions): Promise<GroupInfo[]>;
  inviteMembers(groupId: number, memberIds: number[], options?: RequestOptions): Promise<GroupChangeResult>;
  kickMembers(groupId: number, memberIds: number[], options?: RequestOptions): Promise<GroupChangeResult>;
  groupMembers(groupId: number, options?: RequestOptions): Promise<number[]>;

  // mqim group extensions 0x0840-0x084D (ADR 0015). Changes resolve with the notice (undefined
  // when nothing changed); a refusal rejects with IM_ERR_REQUEST_FAILED and the IM_ERR_* number.
  /** Makes a member an admin (or a plain member again, `admin` false); owner only. */
  setGroupAdmin(
    groupId: number,
    userId: number,
    admin: boolean,
    options?: RequestOptions,
  ): Promise<GroupChangeResult>;
  /** Renames the group; owner or admin. */
  renameGroup(groupId: number, name: string, options?: RequestOptions): Promise<GroupChangeResult>;
  /** Mutes (or unmutes) everyone but the owner and admins; owner or admin. */
  muteGroup(groupId: number, muted: boolean, options?: RequestOptions): Promise<GroupChangeResult>;
  /** Mutes or unmutes one member; owner, or an admin for plain members. */
  muteGroupMember(
    groupId: number,
    userId: number,
    muted: boolean,
    options?: RequestOptions,
  ): Promise<GroupChangeResult>;
  /** Hands the group to another member; owner only. */
  transferGroup(groupId: number, newOwnerId: number, options?: RequestOptions): Promise<GroupChangeResult>;
  /** Owner, admins and mutes of a group you are in. */
  groupRoles(groupId: number, options?: RequestOptions): Promise<GroupRoles>;
  /** Read counts (and readers, in groups of up to 200) of your own messages in a group; ≤ 50 ids. */
  groupReadReceipts(groupId: number, msgIds: number[], options?: RequestOptions): Promise<GroupReadReceipt[]>;
  /**
   * Scheduled messages (mqim extension): the server sends the message as this user at `sendAt`
   * (up to 30 days ahead), once, through the ordinary send path. Refusals reject with the server's
   * code (`IM_ERR_NOT_FOUND`, `IM_ERR_FORBIDDEN`, `IM_ERR_INVALID_ARGUMENT`, `IM_ERR_SCHEDULE_TOO_LATE`).
   */
  scheduleMessage(input: ScheduleInput, options?: RequestOptions): Promise<ScheduledMessage>;
  /** This user's pending scheduled messages, soonest first. */
  scheduledMessages(options?: RequestOptions): Promise<ScheduledMessage[]>;
  /** Cancels a pending scheduled message (idempotent); too late once it is being sent. */
  cancelScheduled(scheduleId: number, options?: RequestOptions): Promise<void>;
  /** A new time for a pending scheduled message. */
  reschedule(scheduleId: number, sendAt: number, options?: RequestOptions): Promise<ScheduledMessage>;

  on<E extends ImClientEventName>(event: E, listener: ImClientListener<E>): this;
  once<E extends ImClientEventName>(event: E, listener: ImClientListener<E>): this;
  off<E extends ImClientEventName>(event: E, listener: ImClientListener<E>): this;

  /**
   * Closes the connection and stops every timer; requests in flight reject with `IM_ERR_CLOSED`.
   * Final: the client cannot connect again. Resolves when the socket is gone.
   */
  close(): Promise<void>;
}
