import {
  CIM,
  CimErrorCode,
  ClientCapability,
  CommandId,
  DEFAULT_MAX_FRAME_LENGTH,
  KickOutReason,
  decodeClientBody,
  toId,
  type BodyInput,
  type BodyOf,
} from '@mqim/protocol/client';
import {
  fromMsgData,
  toGroupMemberChanged,
  toReadNotify,
  toRecallNotice,
  toServerErrorDetail,
  toUserInfo,
} from './cim.mapper';
import { ClientEvents } from './client.events';
import { newClientMsgId } from './client-msg-id';
import { Connection, type Response } from './connection';
import { DeliveryLedger, conversationKey } from './delivery.ledger';
import type {
  ImClient,
  ImClientEventName,
  ImClientEvents,
  ImClientListener,
  ImClientOptions,
} from './im.client';
import {
  ImClientError,
  ImLoginFailedError,
  ImRequestFailedError,
  ImSendRefusedError,
  type ServerErrorDetail,
} from './im.errors';
import {
  ClientType,
  MsgType,
  SessionType,
  type CreateGroupInput,
  type CreateGroupResult,
  type GroupChangeResult,
  type GroupInfo,
  type GroupReadReceipt,
  type GroupRoles,
  type GroupVersion,
  type HistoryQuery,
  type ImClientState,
  type ImMessage,
  type LoginResult,
  type RecallInput,
  type RecallResult,
  type RecentSessions,
  type RequestOptions,
  type SyncConversationPage,
  type SyncConversationQuery,
  type SyncCursor,
  type SyncPage,
  type SyncQuery,
  type ScheduleInput,
  type ScheduledMessage,
  type SendInput,
  type SendResult,
  type SessionRef,
  type UserInfo,
  type ContactChange,
  type FriendRequests,
  type Presence,
  type ProfileUpdate,
} from './im.types';
import * as groupRequests from './group.requests';
import * as groupRoleRequests from './group-roles.requests';
import * as scheduleRequests from './schedule.requests';
import { fetchMissed } from './missed.sync';
import { passwordMd5 } from './password';
import * as queryRequests from './query.requests';
import * as syncRequests from './sync.requests';
import * as socialRequests from './social.requests';
import { reconnectDelay, resolveReconnectOptions, type ResolvedReconnectOptions } from './reconnect.policy';
import { checkId, type Requester } from './requester';
import type { ClientFrame as Frame, TransportOpener } from './transport/transport';

type Credentials =
  { kind: 'token'; userId: number; token: string } | { kind: 'password'; userName: string; md5: string };

interface Settings {
  /** Gate endpoints, tried in turn: a reconnect goes to the next one. */
  urls: string[];
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  heartbeatMs: number;
  idleTimeoutMs: number;
  autoReceipts: boolean;
  reconnect: ResolvedReconnectOptions | undefined;
  clientType: number;
  clientVersion: string;
  nickName: string;
  maxFrameLength: number;
  refusalDetailGraceMs: number;
  syncOnReconnect: boolean;
  resendOnReconnect: boolean;
}

// Messages read back per history page while syncing, and at most per conversation.
const SYNC_PAGE = 50;
const SYNC_MAX_PER_CONVERSATION = 1000;

// Kick-outs after which coming back would only ping-pong with the other device or the admin.
const FINAL_KICK_REASONS = new Set<number>([
  KickOutReason.LOGGED_IN_ELSEWHERE,
  KickOutReason.KICKED_BY_ADMIN,
  // The user's credentials were revoked: logging back in by itself would undo the revocation.
  KickOutReason.CREDENTIALS_REVOKED,
]);

/**
 * A client on the given transports; each entry (Node, browser) passes its own, so that a browser
 * bundle never pulls node:net or the `ws` library.
 */
export function createImClientOn(openTransport: TransportOpener, options: ImClientOptions): ImClient {
  return new ImClientImpl(options, openTransport);
}

export class ImClientImpl implements ImClient, Requester {
  private readonly settings: Settings;
  private readonly events = new ClientEvents();
  private connection: Connection | undefined;
  private connecting: Promise<void> | undefined;
  private stateValue: ImClientState = 'idle';
  private currentUser: UserInfo | undefined;
  private credentials: Credentials | undefined;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private noReconnect = false;
  private closing: Promise<void> | undefined;
  private urlIndex = 0;
  /** What reached the app, per conversation; one user's only (a new user starts a new one). */
  private ledger = new DeliveryLedger();
  /** Whose deliveries the ledger, `since` and `held` hold. */
  private ledgerUser: number | undefined;
  /** Unix seconds of the first login: the start of what a sync may hand to the app. */
  private since: number | undefined;
  /** The connection whose gate announced SERVER_SHUTDOWN: nothing new is sent on it. */
  private drainingConn: Connection | undefined;
  /** Pushes that arrive while a reconnect syncs; handed over with the synced messages. */
  private held: ImMessage[] | undefined;
  private readonly changeWaiters = new Set<() => void>();
  /** `subscribePresence()` was asked for: renewed on every reconnect. */
  private presenceWanted = false;

  constructor(
    options: ImClientOptions,
    private readonly openTransport: TransportOpener,
  ) {
    const heartbeatMs = options.heartbeatMs ?? 20_000;
    const reconnect = options.reconnect ?? false;
    const urls = typeof options.url === 'string' ? [options.url] : [...options.url];
    if (urls.length === 0) throw new ImClientError('IM_ERR_INVALID_ARGUMENT', 'url: give at least one');
    this.settings = {
      urls,
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
      heartbeatMs,
      idleTimeoutMs: options.idleTimeoutMs ?? 3 * heartbeatMs,
      autoReceipts: options.autoReceipts ?? true,
      reconnect:
        reconnect === false ? undefined : resolveReconnectOptions(reconnect === true ? {} : reconnect),
      clientType: options.clientType ?? ClientType.DEFAULT,
      clientVersion: options.clientVersion ?? 'mqim-sdk/0.1.0',
      nickName: options.nickName ?? '',
      maxFrameLength: options.maxFrameLength ?? DEFAULT_MAX_FRAME_LENGTH,
      refusalDetailGraceMs: options.refusalDetailGraceMs ?? 200,
      syncOnReconnect: reconnect !== false && (options.syncOnReconnect ?? true),
      resendOnReconnect: reconnect !== false && (options.resendOnReconnect ?? true),
    };
  }

  get state(): ImClientState {
    return this.stateValue;
  }

  get user(): UserInfo | undefined {
    return this.currentUser;
  }

  get url(): string {
    return this.settings.urls[this.urlIndex]!;
  }

  // ---- connection and login ----

  async connect(): Promise<void> {
    this.assertNotClosed();
    if (this.stateValue === 'reconnecting') {
      throw new ImClientError('IM_ERR_NOT_CONNECTED', "reconnecting; wait for 'reconnected'");
    }
    if (this.connection?.isOpen) return;
    this.connecting ??= this.openConnection().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  loginWithToken(userId: number, token: string, options?: RequestOptions): Promise<LoginResult> {
    return this.login({ kind: 'token', userId: checkId(userId, 'userId'), token }, options);
  }

  loginWithPassword(
    userName: string,
    passwordPlainOrMd5: string,
    options?: RequestOptions,
  ): Promise<LoginResult> {
    return this.login({ kind: 'password', userName, md5: passwordMd5(passwordPlainOrMd5) }, options);
  }

  async logout(options?: RequestOptions): Promise<void> {
    const { conn, me } = this.session();
    // From here on a lost connection is expected, not something to recover from.
    this.credentials = undefined;
    try {
      await conn.request(
        CommandId.LOGIN_AUTH_LOGOUT_REQ,
        { userId: me, clientType: this.settings.clientType },
        CommandId.LOGIN_AUTH_LOGOUT_RSP,
        this.spec(CommandId.LOGIN_AUTH_LOGOUT_REQ, options),
      );
    } finally {
      this.currentUser = undefined;
      this.presenceWanted = false;
      // A logout ends what a reconnect would sync; the next login (this user or another) starts anew.
      this.forgetDeliveries();
      if (this.stateValue !== 'closed') this.stateValue = 'disconnected';
      await conn.close(new ImClientError('IM_ERR_NOT_LOGGED_IN', 'logged out'));
    }
  }

  async close(): Promise<void> {
    if (this.closing !== undefined) return this.closing;
    this.stateValue = 'closed';
    this.credentials = undefined;
    if (this.reconnectTimer !== undefined) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.changed();
    const conn = this.connection;
    this.connection = undefined;
    this.closing = conn?.close(new ImClientError('IM_ERR_CLOSED', 'client closed')) ?? Promise.resolve();
    return this.closing;
  }

  private async login(credentials: Credentials, options: RequestOptions | undefined): Promise<LoginResult> {
    await this.connect();
    const conn = this.connection;
    if (conn === undefined) throw new ImClientError('IM_ERR_NOT_CONNECTED', 'not connected');
    return this.authenticate(conn, credentials, options?.timeoutMs ?? this.settings.requestTimeoutMs);
  }

  private async authenticate(
    conn: Connection,
    credentials: Credentials,
    timeoutMs: number,
  ): Promise<LoginResult> {
    const { clientType, clientVersion } = this.settings;
    // Right before the login, pipelined (frames are handled in order): this client reads
    // self-copies and refused acks, which the server keeps from CoffeeChat's clients (ADR 0012),
    // so the gate knows it before the first delivery after the login answer.
    conn.post(CommandId.CLIENT_CAPABILITIES_REQ, {
      flags: ClientCapability.SELF_SYNC | ClientCapability.REFUSED_SEND_ACK,
    });
    const { body } =
      credentials.kind === 'token'
        ? await conn.request(
            CommandId.LOGIN_AUTH_TOKEN_REQ,
            {
              userId: credentials.userId,
              nickName: this.settings.nickName,
              userToken: credentials.token,
              clientType,
              clientVersion,
            },
            CommandId.LOGIN_AUTH_TOKEN_RSP,
            this.spec(CommandId.LOGIN_AUTH_TOKEN_REQ, { timeoutMs }),
          )
        : await conn.request(
            CommandId.LOGIN_AUTH_REQ,
            { userName: credentials.userName, userPwd: credentials.md5, clientType, clientVersion },
            CommandId.LOGIN_AUTH_RSP,
            this.spec(CommandId.LOGIN_AUTH_REQ, { timeoutMs }),
          );
    if (body.resultCode !== CimErrorCode.SUCCESS)
      throw new ImLoginFailedError(body.resultCode, body.resultString);
    this.assertNotClosed();
    const user = toUserInfo(body.userInfo);
    this.currentUser = user;
    this.credentials = credentials;
    this.noReconnect = false;
    this.stateValue = 'loggedIn';
    // Another user on this client: the previous user's conversations (keyed by peer, ids counted
    // per pair) must not make this user's messages look like duplicates.
    if (this.ledgerUser !== user.userId) this.forgetDeliveries();
    this.ledgerUser = user.userId;
    this.since ??= body.serverTime;
    conn.startHeartbeat(this.settings.heartbeatMs, this.settings.idleTimeoutMs);
    return { user, serverTime: body.serverTime };
  }

  private forgetDeliveries(): void {
    this.ledger = new DeliveryLedger();
    this.ledgerUser = undefined;
    this.since = undefined;
    this.held = undefined;
  }

  private async openConnection(): Promise<void> {
    const reconnecting = this.stateValue === 'reconnecting';
    if (!reconnecting) this.stateValue = 'connecting';
    const conn: Connection = new Connection(
      {
        frame: (frame) => this.onFrame(conn, frame),
        closed: (reason, error) => this.onClosed(conn, reason, error),
      },
      this.openTransport,
    );
    this.connection = conn;
    try {
      await conn.open(this.url, {
        connectTimeoutMs: this.settings.connectTimeoutMs,
        maxFrameLength: this.settings.maxFrameLength,
      });
    } catch (err) {
      if (this.connection === conn) this.connection = undefined;
      if (this.stateValue === 'connecting') this.stateValue = 'disconnected';
      throw err;
    }
    if (this.stateValue === 'closed') {
      // close() ran while the socket was opening.
      await conn.close(new ImClientError('IM_ERR_CLOSED', 'client closed'));
      throw new ImClientError('IM_ERR_CLOSED', 'client closed');
    }
    if (!reconnecting) this.stateValue = 'connected';
  }

  private onClosed(conn: Connection, reason: string, error: Error | undefined): void {
    if (conn !== this.connection) return;
    this.connection = undefined;
    // A failed reconnect attempt is retried by the attempt itself.
    if (this.stateValue === 'closed' || this.stateValue === 'reconnecting') return;
    const willReconnect =
      this.stateValue === 'loggedIn' &&
      this.settings.reconnect !== undefined &&
      this.credentials !== undefined &&
      !this.noReconnect;
    this.stateValue = willReconnect ? 'reconnecting' : 'disconnected';
    this.changed();
    this.emit('disconnected', { reason, willReconnect, error });
    if (willReconnect) {
      // Whether it drained or died, this gate is the last place to try again.
      this.nextUrl();
      this.scheduleReconnect(1);
    }
  }

  private nextUrl(): void {
    this.urlIndex = (this.urlIndex + 1) % this.settings.urls.length;
  }

  private scheduleReconnect(attempt: number, error?: Error): void {
    const policy = this.settings.reconnect!;
    if (attempt > policy.maxAttempts) {
      this.giveUp(
        new ImClientError('IM_ERR_NOT_CONNECTED', `gave up reconnecting after ${attempt - 1} attempts`),
      );
      return;
    }
    // The backoff grows per round through the endpoints: a drained gate's clients try the next
    // gate soon, and only a cluster that refuses everywhere is retried more and more slowly.
    const delayMs = reconnectDelay(Math.ceil(attempt / this.settings.urls.length), policy);
    this.emit('reconnecting', { attempt, delayMs, error });
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.reconnectOnce(attempt);
    }, delayMs);
  }

  private async reconnectOnce(attempt: number): Promise<void> {
    if (this.stateValue !== 'reconnecting' || this.credentials === undefined) return;
    let conn: Connection | undefined;
    try {
      // From the login on, pushes wait for the sync: the app gets each conversation in order.
      this.held = [];
      await this.openConnection();
      conn = this.connection!;
      const { user } = await this.authenticate(conn, this.credentials, this.settings.requestTimeoutMs);
      const missed = this.settings.syncOnReconnect
        ? await fetchMissed(this, this.ledger, {
            me: user.userId,
            since: this.since ?? 0,
            pageSize: SYNC_PAGE,
            maxPerConversation: SYNC_MAX_PER_CONVERSATION,
            timeoutMs: this.settings.requestTimeoutMs,
          })
        : [];
      if (this.connection !== conn) throw new ImClientError('IM_ERR_CONNECTION_LOST', 'lost while syncing');
      const synced = this.release(conn, missed);
      this.changed();
      this.emit('reconnected', { user, attempts: attempt, url: this.url, synced });
      // A presence subscription belongs to a connection: take it to the new one, and report the
      // contacts' state there (changes while away are not replayed otherwise).
      if (this.presenceWanted)
        void socialRequests
          .subscribePresence(this, true, undefined)
          .then((states) => states.forEach((p) => this.emit('presence', p)))
          .catch((err: unknown) => this.emit('warning', asError(err)));
    } catch (err) {
      this.held = undefined;
      // Read afresh: close() or logout() may have run while this attempt awaited.
      const state = this.stateValue as ImClientState;
      if (state === 'closed' || this.credentials === undefined) return;
      // Lost after the login (while syncing): onClosed has already scheduled the next attempt.
      if (this.reconnectTimer !== undefined) return;
      this.stateValue = 'reconnecting';
      this.connection = undefined;
      void conn?.close(asError(err));
      this.nextUrl();
      // Credentials refused now will be refused on every later attempt too.
      if (err instanceof ImLoginFailedError) this.giveUp(err);
      else this.scheduleReconnect(attempt + 1, asError(err));
    }
  }

  /**
   * Hands the synced messages and the pushes held meanwhile to the app: each conversation in
   * server_msg_id order, each message once. Returns how many synced ones were news.
   */
  private release(conn: Connection, missed: ImMessage[]): number {
    const held = this.held ?? [];
    this.held = undefined;
    const me = this.currentUser?.userId ?? 0;
    for (const m of missed)
      if (this.settings.autoReceipts && m.fromUserId !== me) this.sendReceipt(conn, m, me);
    const byConversation = new Map<string, ImMessage[]>();
    for (const m of [...missed, ...held]) {
      const key = conversationKey(m.sessionType, m.sessionId);
      const list = byConversation.get(key);
      if (list === undefined) byConversation.set(key, [m]);
      else list.push(m);
    }
    const syncedIds = new Set(missed);
    let synced = 0;
    for (const list of byConversation.values()) {
      list.sort((a, b) => a.serverMsgId - b.serverMsgId);
      for (const m of list) {
        if (!this.ledger.admit(m)) continue;
        if (syncedIds.has(m)) synced++;
        this.emit('message', m);
      }
    }
    return synced;
  }

  private giveUp(err: Error): void {
    this.stateValue = 'disconnected';
    this.changed();
    this.emit('reconnectFailed', err);
  }

  /**
   * A draining gate keeps every connection open until its last send in flight is answered (or
   * its grace ends); a client with nothing in flight has no reason to wait for that: it leaves at
   * once, and is on the next gate while the slow ones are still being answered.
   */
  private leaveWhenIdle(conn: Connection): void {
    const check = () => {
      if (this.connection !== conn || !conn.isOpen) return;
      if (conn.inFlight > 0) {
        unref(setTimeout(check, 20));
        return;
      }
      void conn.close(new ImClientError('IM_ERR_CONNECTION_LOST', 'left a draining gate'));
    };
    check();
  }

  /** Wakes sends that wait for a usable connection. */
  private changed(): void {
    for (const wake of [...this.changeWaiters]) wake();
  }

  private nextChange(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.changeWaiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.changeWaiters.add(wake);
    });
  }

  // ---- frames the server starts ----

  private onFrame(conn: Connection, frame: Frame): void {
    if (conn !== this.connection) return;
    try {
      this.dispatch(conn, frame);
    } catch (err) {
      this.emit('warning', asError(err));
    }
  }

  private dispatch(conn: Connection, frame: Frame): void {
    const me = this.currentUser?.userId ?? 0;
    switch (frame.commandId) {
      case CommandId.MSG_DATA: {
        const message = fromMsgData(decodeClientBody(CommandId.MSG_DATA, frame.body), me);
        // A duplicate is answered too: the receipt says it arrived, whichever copy did.
        if (this.settings.autoReceipts && message.fromUserId !== me) this.sendReceipt(conn, message, me);
        if (this.held !== undefined) this.held.push(message);
        else if (this.ledger.admit(message)) this.emit('message', message);
        return;
      }
      case CommandId.MSG_READ_NOTIFY:
        this.emit('readNotify', toReadNotify(decodeClientBody(CommandId.MSG_READ_NOTIFY, frame.body), me));
        return;
      case CommandId.GROUP_MEMBER_CHANGED_NOTIFY:
        this.emit(
          'groupMemberChanged',
          toGroupMemberChanged(decodeClientBody(CommandId.GROUP_MEMBER_CHANGED_NOTIFY, frame.body)),
        );
        return;
      case CommandId.RECALL_NOTIFY:
        this.emit('recalled', toRecallNotice(decodeClientBody(CommandId.RECALL_NOTIFY, frame.body), me));
        return;
      case CommandId.TYPING_NOTIFY:
        this.emit(
          'typing',
          socialRequests.toTypingNotice(decodeClientBody(CommandId.TYPING_NOTIFY, frame.body)),
        );
        return;
      case CommandId.PRESENCE_NOTIFY:
        this.emit(
          'presence',
          socialRequests.toPresence(decodeClientBody(CommandId.PRESENCE_NOTIFY, frame.body).presence),
        );
        return;
      case CommandId.CONTACT_NOTIFY:
        this.emit(
          'contact',
          socialRequests.toContactNotice(decodeClientBody(CommandId.CONTACT_NOTIFY, frame.body)),
        );
        return;
      case CommandId.PROFILE_NOTIFY:
        this.emit('profile', toUserInfo(decodeClientBody(CommandId.PROFILE_NOTIFY, frame.body).userInfo));
        return;
      case CommandId.KICK_OUT_NOTIFY: {
        const n = decodeClientBody(CommandId.KICK_OUT_NOTIFY, frame.body);
        if (FINAL_KICK_REASONS.has(n.reason)) this.noReconnect = true;
        if (n.reason === KickOutReason.SERVER_SHUTDOWN) {
          this.drainingConn = conn;
          this.changed();
          if (this.settings.reconnect !== undefined && !this.noReconnect) this.leaveWhenIdle(conn);
        }
        this.emit('kickedOut', { reason: n.reason, text: n.text });
        return;
      }
      case CommandId.ERROR_NOTIFY: {
        const detail = toServerErrorDetail(decodeClientBody(CommandId.ERROR_NOTIFY, frame.body));
        if (!conn.refuse(detail)) this.emit('serverError', detail);
        return;
      }
      default:
        // Heartbeat replies, answers that arrive after their request timed out, VoIP signalling.
        return;
    }
  }

  private sendReceipt(conn: Connection, message: ImMessage, me: number): void {
    conn.post(CommandId.MSG_DATA_ACK, {
      fromUserId: me,
      toSessionId: message.sessionType === SessionType.GROUP ? message.toSessionId : message.fromUserId,
      clientMsgId: message.clientMsgId,
      serverMsgId: message.serverMsgId,
      resCode: CIM.Def.CIMResCode.RES_CODE_OK,
      sessionType: message.sessionType,
      createTime: message.createTime,
    });
  }

  // ---- messages ----

  async send(input: SendInput, options?: RequestOptions): Promise<SendResult> {
    const toSessionId = checkId(input.to, 'to');
    const msgData = messageBytes(input);
    const clientMsgId = input.clientMsgId ?? newClientMsgId();
    this.ledger.sent(clientMsgId);
    const timeoutMs = options?.timeoutMs ?? this.settings.requestTimeoutMs;
    if (!this.settings.resendOnReconnect)
      return this.sendOnce(input, toSessionId, clientMsgId, msgData, timeoutMs);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await this.untilSendable(deadline, timeoutMs);
      const conn = this.connection;
      try {
        return await this.sendOnce(
          input,
          toSessionId,
          clientMsgId,
          msgData,
          Math.max(1, deadline - Date.now()),
        );
      } catch (err) {
        if (Date.now() >= deadline || !this.mayResend(err, conn)) throw err;
      }
    }
  }

  /**
   * Waits while a reconnect is under way or the gate announced its shutdown (it refuses new
   * sends): a send goes out on the next gate instead of failing.
   */
  private async untilSendable(deadline: number, timeoutMs: number): Promise<void> {
    for (;;) {
      const waiting =
        this.stateValue === 'reconnecting' ||
        (this.stateValue === 'loggedIn' &&
          this.connection !== undefined &&
          this.connection === this.drainingConn);
      if (!waiting) return;
      const left = deadline - Date.now();
      if (left <= 0)
        throw new ImClientError('IM_ERR_NOT_CONNECTED', `still reconnecting after ${timeoutMs} ms`);
      await this.nextChange(left);
    }
  }

  /** Resending is safe (same clientMsgId) and worth it when the send failed for the gate's sake. */
  private mayResend(err: unknown, conn: Connection | undefined): boolean {
    if (this.stateValue === 'closed' || this.credentials === undefined) return false;
    if (err instanceof ImSendRefusedError)
      return err.detail?.errorName === 'IM_ERR_BUSY' && conn !== undefined && conn === this.drainingConn;
    if (!(err instanceof ImClientError)) return false;
    const lost = err.code === 'IM_ERR_CONNECTION_LOST' || err.code === 'IM_ERR_NOT_CONNECTED';
    return (
      lost &&
      (this.stateValue === 'reconnecting' || (this.stateValue === 'loggedIn' && this.connection !== conn))
    );
  }

  private async sendOnce(
    input: SendInput,
    toSessionId: number,
    clientMsgId: string,
    msgData: Uint8Array,
    timeoutMs: number,
  ): Promise<SendResult> {
    const { conn, me } = this.session();
    const { body: ack, refusalDetail } = await conn.request(
      CommandId.MSG_DATA,
      {
        fromUserId: me,
        fromNickName: this.currentUser?.nickName ?? '',
        toSessionId,
        clientMsgId,
        serverMsgId: 0,
        // The server stamps its own time; ours only helps servers that do not.
        createTime: Math.floor(Date.now() / 1000),
        msgType: input.msgType ?? MsgType.TEXT,
        sessionType: input.sessionType ?? SessionType.SINGLE,
        msgData,
      },
      CommandId.MSG_DATA_ACK,
      {
        timeoutMs,
        refuse: (detail) => new ImSendRefusedError(clientMsgId, undefined, detail),
        isRefusal: (a) => a.resCode !== CIM.Def.CIMResCode.RES_CODE_OK,
        refusalGraceMs: this.settings.refusalDetailGraceMs,
      },
    );
    if (refusalDetail !== undefined)
      throw new ImSendRefusedError(clientMsgId, ack.resCode, await refusalDetail);
    return {
      clientMsgId: ack.clientMsgId || clientMsgId,
      serverMsgId: toId(ack.serverMsgId, 'server_msg_id'),
      createTime: ack.createTime,
    };
  }

  async markRead(sessionType: number, sessionId: number, msgId: number): Promise<void> {
    const { conn, me } = this.session();
    conn.post(CommandId.MSG_READ_ACK, {
      userId: me,
      sessionId: checkId(sessionId, 'sessionId'),
      msgId: checkId(msgId, 'msgId'),
      sessionType,
    });
  }

  recentSessions(options?: RequestOptions & { updatedSince?: number }): Promise<RecentSessions> {
    return queryRequests.recentSessions(this, options);
  }

  history(query: HistoryQuery, options?: RequestOptions): Promise<ImMessage[]> {
    return queryRequests.history(this, query, options);
  }

  latestMsgId(session: SessionRef, options?: RequestOptions): Promise<string | undefined> {
    return queryRequests.latestMsgId(this, session, options);
  }

  messagesById(
    session: SessionRef & { clientMsgIds: string[] },
    options?: RequestOptions,
  ): Promise<ImMessage[]> {
    return queryRequests.messagesById(this, session, options);
  }

  friends(options?: RequestOptions): Promise<UserInfo[]> {
    return queryRequests.friends(this, options);
  }

  // ---- sync and recall (mqim extensions) ----

  syncConversation(query: SyncConversationQuery, options?: RequestOptions): Promise<SyncConversationPage> {
    return syncRequests.syncConversation(this, query, options);
  }

  sync(
    cursor: SyncCursor = { positions: [] },
    query?: SyncQuery,
    options?: RequestOptions,
  ): Promise<SyncPage> {
    return syncRequests.sync(this, cursor, query, options);
  }

  recall(input: RecallInput, options?: RequestOptions): Promise<RecallResult> {
    return syncRequests.recall(this, input, options);
  }

  // ---- typing, presence, contacts, profile (mqim extensions) ----

  async sendTyping(peerUserId: number, typing: boolean): Promise<void> {
    const { conn } = this.session();
    conn.post(CommandId.TYPING, { peerUserId: checkId(peerUserId, 'peerUserId'), state: typing ? 1 : 0 });
  }

  presence(userIds: number[], options?: RequestOptions): Promise<Presence[]> {
    return socialRequests.presence(this, userIds, options);
  }

  subscribePresence(subscribe = true, options?: RequestOptions): Promise<Presence[]> {
    this.presenceWanted = subscribe;
    return socialRequests.subscribePresence(this, subscribe, options);
  }

  requestFriend(userId: number, note = '', options?: RequestOptions): Promise<ContactChange> {
    return socialRequests.requestFriend(this, userId, note, options);
  }

  acceptFriend(fromUserId: number, options?: RequestOptions): Promise<ContactChange> {
    return socialRequests.respondFriend(this, fromUserId, true, options);
  }

  declineFriend(fromUserId: number, options?: RequestOptions): Promise<ContactChange> {
    return socialRequests.respondFriend(this, fromUserId, false, options);
  }

  removeFriend(userId: number, options?: RequestOptions): Promise<ContactChange> {
    return socialRequests.removeFriend(this, userId, options);
  }

  blockUser(userId: number, options?: RequestOptions): Promise<ContactChange> {
    return socialRequests.blockUser(this, userId, true, options);
  }

  unblockUser(userId: number, options?: RequestOptions): Promise<ContactChange> {
    return socialRequests.blockUser(this, userId, false, options);
  }

  friendRequests(options?: RequestOptions): Promise<FriendRequests> {
    return socialRequests.friendRequests(this, options);
  }

  updateProfile(update: ProfileUpdate, options?: RequestOptions): Promise<UserInfo> {
    return socialRequests.updateProfile(this, update, options);
  }

  // ---- groups ----

  createGroup(input: CreateGroupInput, options?: RequestOptions): Promise<CreateGroupResult> {
    return groupRequests.createGroup(this, input, options);
  }

  disbandGroup(groupId: number, options?: RequestOptions): Promise<GroupChangeResult> {
    return groupRequests.disbandGroup(this, groupId, options);
  }

  exitGroup(groupId: number, options?: RequestOptions): Promise<GroupChangeResult> {
    return groupRequests.exitGroup(this, groupId, options);
  }

  listGroups(options?: RequestOptions): Promise<GroupVersion[]> {
    return groupRequests.listGroups(this, options);
  }

  groupInfo(groups: Array<number | GroupVersion>, options?: RequestOptions): Promise<GroupInfo[]> {
    return groupRequests.groupInfo(this, groups, options);
  }

  inviteMembers(groupId: number, memberIds: number[], options?: RequestOptions): Promise<GroupChangeResult> {
    return groupRequests.inviteMembers(this, groupId, memberIds, options);
  }

  kickMembers(groupId: number, memberIds: number[], options?: RequestOptions): Promise<GroupChangeResult> {
    return groupRequests.kickMembers(this, groupId, memberIds, options);
  }

  groupMembers(groupId: number, options?: RequestOptions): Promise<number[]> {
    return groupRequests.groupMembers(this, groupId, options);
  }

  setGroupAdmin(
    groupId: number,
    userId: number,
    admin: boolean,
    options?: RequestOptions,
  ): Promise<GroupChangeResult> {
    return groupRoleRequests.setGroupAdmin(this, groupId, userId, admin, options);
  }

  renameGroup(groupId: number, name: string, options?: RequestOptions): Promise<GroupChangeResult> {
    return groupRoleRequests.renameGroup(this, groupId, name, options);
  }

  muteGroup(groupId: number, muted: boolean, options?: RequestOptions): Promise<GroupChangeResult> {
    return groupRoleRequests.muteGroup(this, groupId, muted, options);
  }

  muteGroupMember(
    groupId: number,
    userId: number,
    muted: boolean,
    options?: RequestOptions,
  ): Promise<GroupChangeResult> {
    return groupRoleRequests.muteGroupMember(this, groupId, userId, muted, options);
  }

  transferGroup(groupId: number, newOwnerId: number, options?: RequestOptions): Promise<GroupChangeResult> {
    return groupRoleRequests.transferGroup(this, groupId, newOwnerId, options);
  }

  groupRoles(groupId: number, options?: RequestOptions): Promise<GroupRoles> {
    return groupRoleRequests.groupRoles(this, groupId, options);
  }

  groupReadReceipts(
    groupId: number,
    msgIds: number[],
    options?: RequestOptions,
  ): Promise<GroupReadReceipt[]> {
    return groupRoleRequests.groupReadReceipts(this, groupId, msgIds, options);
  }

  // ---- scheduled messages (mqim extension) ----

  scheduleMessage(input: ScheduleInput, options?: RequestOptions): Promise<ScheduledMessage> {
    return scheduleRequests.scheduleMessage(this, input, options);
  }

  scheduledMessages(options?: RequestOptions): Promise<ScheduledMessage[]> {
    return scheduleRequests.scheduledMessages(this, options);
  }

  cancelScheduled(scheduleId: number, options?: RequestOptions): Promise<void> {
    return scheduleRequests.cancelScheduled(this, scheduleId, options);
  }

  reschedule(scheduleId: number, sendAt: number, options?: RequestOptions): Promise<ScheduledMessage> {
    return scheduleRequests.reschedule(this, scheduleId, sendAt, options);
  }

  // ---- events ----

  on<E extends ImClientEventName>(event: E, listener: ImClientListener<E>): this {
    this.events.on(event, listener);
    return this;
  }

  once<E extends ImClientEventName>(event: E, listener: ImClientListener<E>): this {
    this.events.on(event, listener, true);
    return this;
  }

  off<E extends ImClientEventName>(event: E, listener: ImClientListener<E>): this {
    this.events.off(event, listener);
    return this;
  }

  private emit<E extends ImClientEventName>(event: E, ...args: ImClientEvents[E]): void {
    // A throwing listener is the app's bug: ClientEvents surfaces it as an uncaught error, not
    // from inside the frame loop, where it would look like a broken connection.
    this.events.emit(event, ...args);
  }

  // ---- helpers ----

  /** The open connection and the logged-in user id, or the reason there are none. */
  private session(): { conn: Connection; me: number } {
    this.assertNotClosed();
    const conn = this.connection;
    if (conn === undefined || !conn.isOpen) {
      throw new ImClientError(
        'IM_ERR_NOT_CONNECTED',
        this.stateValue === 'reconnecting' ? "reconnecting; wait for 'reconnected'" : 'not connected',
      );
    }
    if (this.stateValue !== 'loggedIn' || this.currentUser === undefined) {
      // The server closes a connection that sends anything but a login first.
      throw new ImClientError('IM_ERR_NOT_LOGGED_IN', 'log in first');
    }
    return { conn, me: this.currentUser.userId };
  }

  /** {@link Requester.call}; public for the request modules, not part of {@link ImClient}. */
  async call<C extends CommandId, R extends CommandId>(
    cmd: C,
    build: (me: number) => BodyInput<C>,
    responseCmd: R,
    options: RequestOptions | undefined,
  ): Promise<Response<BodyOf<R>> & { me: number }> {
    const { conn, me } = this.session();
    const response = await conn.request(cmd, build(me), responseCmd, this.spec(cmd, options));
    return { ...response, me };
  }

  private spec(
    cmd: number,
    options: RequestOptions | undefined,
  ): { timeoutMs: number; refuse: (d: ServerErrorDetail) => Error } {
    return {
      timeoutMs: options?.timeoutMs ?? this.settings.requestTimeoutMs,
      refuse: (detail) => new ImRequestFailedError(cmd, undefined, detail),
    };
  }

  private assertNotClosed(): void {
    if (this.stateValue === 'closed') throw new ImClientError('IM_ERR_CLOSED', 'client closed');
  }
}

function messageBytes(input: SendInput): Uint8Array {
  if ((input.text === undefined) === (input.data === undefined)) {
    throw new ImClientError('IM_ERR_INVALID_ARGUMENT', 'give either text or data');
  }
  return input.text !== undefined ? new TextEncoder().encode(input.text) : input.data!;
}

/** Lets Node exit with this timer pending; browsers' timers are numbers with nothing to unref. */
function unref(timer: ReturnType<typeof setTimeout>): void {
  (timer as { unref?: () => void }).unref?.();
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
