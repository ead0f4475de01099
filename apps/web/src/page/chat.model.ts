import {
  MsgType,
  SessionType,
  newClientMsgId,
  type FriendRequest,
  type GroupInfo,
  type ImClient,
  type ImMessage,
  type ReadNotify,
  type UserInfo,
} from '@mqim/sdk/browser';

/** A message as the page shows it; `sending` until the server acked it (stored). */
export interface ChatMessage {
  clientMsgId: string;
  serverMsgId: number;
  fromUserId: number;
  text: string;
  createTime: number;
  state: 'sending' | 'sent' | 'failed';
}

export interface Conversation {
  readonly key: string;
  readonly sessionType: number;
  readonly sessionId: number;
  messages: ChatMessage[];
  /** Every older message is loaded (history answered a short page). */
  complete: boolean;
  /** History was read at least once (pushes alone may have filled `messages`). */
  historyLoaded: boolean;
  /** The peer read up to this server_msg_id (single chats). */
  peerReadUpTo: number;
  unread: number;
  updatedTime: number;
  lastText: string;
}

export type LinkState = 'connected' | 'reconnecting' | 'disconnected';

const PAGE = 20;
/** "typing…" stays this long after the last notice; we re-send ours at most this often. */
const TYPING_SHOWN_MS = 5_000;
const TYPING_EVERY_MS = 3_000;

export function conversationKey(sessionType: number, sessionId: number): string {
  return `${sessionType}:${sessionId}`;
}

/**
 * Everything the chat screen shows, kept in step with the client's events. Views subscribe and
 * re-render on every change; the model never touches the DOM.
 */
export class ChatModel {
  readonly users = new Map<number, UserInfo>();
  readonly groups = new Map<number, GroupInfo>();
  readonly conversations = new Map<string, Conversation>();
  /** Friend requests waiting for our answer. */
  requests: FriendRequest[] = [];
  /** Peers typing to us now (user id → when the notice came). */
  readonly typing = new Map<number, number>();
  openKey: string | undefined;
  link: LinkState = 'connected';
  error: string | undefined;
  private readonly listeners = new Set<() => void>();
  private typingSentAt = 0;

  constructor(
    readonly client: ImClient,
    readonly me: UserInfo,
  ) {
    client.on('message', (m) => this.onMessage(m));
    client.on('readNotify', (n) => this.onRead(n));
    client.on('groupMemberChanged', () => void this.loadGroups().then(() => this.changed()));
    client.on('disconnected', () => this.setLink('reconnecting'));
    client.on('reconnecting', () => this.setLink('reconnecting'));
    client.on('reconnected', () => {
      this.setLink('connected');
      // Unread counts and sessions started elsewhere while we were away.
      void this.loadSessions().then(() => this.changed());
    });
    client.on('reconnectFailed', () => this.setLink('disconnected'));
    client.on('kickedOut', () => this.setLink('disconnected'));
    // Contacts are friends (0x0601 lists nobody else): requests and answers change the list.
    client.on('contact', () => void this.loadContacts().then(() => this.changed()));
    client.on('profile', (u) => {
      if (u.userId === this.me.userId) return;
      this.users.set(u.userId, u);
      this.changed();
    });
    client.on('typing', (t) => {
      if (t.typing) this.typing.set(t.fromUserId, Date.now());
      else this.typing.delete(t.fromUserId);
      this.changed();
    });
  }

  /** Whether `userId` typed to us in the last few seconds. */
  isTyping(userId: number): boolean {
    const at = this.typing.get(userId);
    return at !== undefined && Date.now() - at < TYPING_SHOWN_MS;
  }

  /** Tells the open single chat's peer we are typing (at most every few seconds). */
  typed(): void {
    const c = this.open;
    if (c === undefined || c.sessionType !== SessionType.SINGLE) return;
    const now = Date.now();
    if (now - this.typingSentAt < TYPING_EVERY_MS) return;
    this.typingSentAt = now;
    void this.client.sendTyping(c.sessionId, true).catch(() => undefined);
  }

  /** Asks user `userId` (their id, shown on their page) to become a contact. */
  async addContact(userId: number): Promise<void> {
    await this.client.requestFriend(userId);
    await this.loadContacts();
    this.changed();
  }

  async acceptRequest(fromUserId: number): Promise<void> {
    await this.client.acceptFriend(fromUserId);
    await this.loadContacts();
    this.changed();
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Users, groups and recent sessions, right after login. */
  async load(): Promise<void> {
    await this.loadContacts();
    await this.loadGroups();
    await this.loadSessions();
    this.changed();
  }

  /** Reads the contact list again: people who registered after we logged in. */
  async refreshContacts(): Promise<void> {
    const before = this.users.size;
    await this.loadUsers();
    if (this.users.size !== before) this.changed();
  }

  sessionList(): Conversation[] {
    return [...this.conversations.values()].sort((a, b) => b.updatedTime - a.updatedTime);
  }

  get open(): Conversation | undefined {
    return this.openKey === undefined ? undefined : this.conversations.get(this.openKey);
  }

  title(c: Pick<Conversation, 'sessionType' | 'sessionId'>): string {
    if (c.sessionType === SessionType.GROUP)
      return this.groups.get(c.sessionId)?.name || `group ${c.sessionId}`;
    return this.nameOf(c.sessionId);
  }

  nameOf(userId: number): string {
    const u = this.users.get(userId);
    return u?.nickName || `user ${userId}`;
  }

  /** Opens a conversation: its newest page, and everything in it marked read. */
  async openConversation(sessionType: number, sessionId: number): Promise<void> {
    const c = this.conversation(sessionType, sessionId);
    this.openKey = c.key;
    this.changed();
    if (!c.historyLoaded) await this.loadOlder();
    await this.markOpenRead();
  }

  /** One more page of history above the oldest loaded message. */
  async loadOlder(): Promise<void> {
    const c = this.open;
    if (c === undefined || c.complete) return;
    const oldest = c.messages.find((m) => m.serverMsgId > 0)?.serverMsgId;
    const page = await this.client.history({
      sessionType: c.sessionType,
      sessionId: c.sessionId,
      endMsgId: oldest,
      limit: PAGE,
    });
    c.historyLoaded = true;
    if (page.length < PAGE) c.complete = true;
    const known = new Set(c.messages.map((m) => m.clientMsgId));
    c.messages = [...page.filter((m) => !known.has(m.clientMsgId)).map(toChatMessage), ...c.messages];
    this.changed();
  }

  async send(text: string): Promise<void> {
    const c = this.open;
    if (c === undefined || text.trim() === '') return;
    const pending: ChatMessage = {
      // Chosen here, so the pending bubble and the server's ack share it (a retry would too).
      clientMsgId: newClientMsgId(),
      serverMsgId: 0,
      fromUserId: this.me.userId,
      text,
      createTime: Math.floor(Date.now() / 1000),
      state: 'sending',
    };
    c.messages = [...c.messages, pending];
    // The next keystroke tells the peer again: they saw a message, not someone still typing.
    this.typingSentAt = 0;
    this.touch(c, text, pending.createTime);
    this.changed();
    try {
      const ack = await this.client.send({
        to: c.sessionId,
        sessionType: c.sessionType,
        text,
        clientMsgId: pending.clientMsgId,
      });
      pending.serverMsgId = ack.serverMsgId;
      pending.createTime = ack.createTime;
      pending.state = 'sent';
    } catch (err) {
      pending.state = 'failed';
      this.error = `not sent: ${err instanceof Error ? err.message : String(err)}`;
    }
    this.changed();
  }

  async createGroup(name: string, memberIds: number[]): Promise<void> {
    const result = await this.client.createGroup({ name, memberIds });
    this.groups.set(result.group.groupId, result.group);
    await this.openConversation(SessionType.GROUP, result.group.groupId);
  }

  async groupMembers(groupId: number): Promise<number[]> {
    return this.client.groupMembers(groupId);
  }

  private async loadContacts(): Promise<void> {
    await this.loadUsers();
    this.requests = (await this.client.friendRequests()).incoming;
  }

  private async loadUsers(): Promise<void> {
    const friends = await this.client.friends();
    for (const u of friends) this.users.set(u.userId, u);
    this.users.set(this.me.userId, this.me);
  }

  private async loadGroups(): Promise<void> {
    const versions = await this.client.listGroups();
    if (versions.length === 0) return;
    // By id, not by version: given a version, the server answers only groups changed since.
    for (const g of await this.client.groupInfo(versions.map((v) => v.groupId)))
      this.groups.set(g.groupId, g);
  }

  private async loadSessions(): Promise<void> {
    const recent = await this.client.recentSessions();
    for (const s of recent.sessions) {
      const c = this.conversation(s.sessionType, s.sessionId);
      c.unread = c.key === this.openKey ? 0 : s.unreadCount;
      c.updatedTime = Math.max(c.updatedTime, s.updatedTime);
      c.lastText = s.lastMessage?.text ?? c.lastText;
    }
  }

  private conversation(sessionType: number, sessionId: number): Conversation {
    const key = conversationKey(sessionType, sessionId);
    let c = this.conversations.get(key);
    if (c === undefined) {
      c = {
        key,
        sessionType,
        sessionId,
        messages: [],
        complete: false,
        historyLoaded: false,
        peerReadUpTo: 0,
        unread: 0,
        updatedTime: 0,
        lastText: '',
      };
      this.conversations.set(key, c);
    }
    return c;
  }

  private onMessage(m: ImMessage): void {
    if (m.sessionType === SessionType.GROUP && !this.groups.has(m.sessionId)) {
      // A group we were just added to: its name comes with its info.
      void this.loadGroups().then(() => this.changed());
    }
    if (!this.users.has(m.fromUserId)) {
      // Someone who registered after our login: known by the name on the message until the
      // contact list, read again, has them.
      this.users.set(m.fromUserId, { ...this.me, userId: m.fromUserId, nickName: m.fromNickName });
      void this.loadUsers().then(() => this.changed());
    }
    const c = this.conversation(m.sessionType, m.sessionId);
    const known = c.messages.find((x) => x.clientMsgId === m.clientMsgId);
    if (known === undefined) {
      c.messages = [...c.messages, toChatMessage(m)];
      if (c.key === this.openKey && visible()) void this.markOpenRead();
      else if (m.fromUserId !== this.me.userId) c.unread += 1;
    }
    this.touch(c, m.text ?? '', m.createTime);
    this.changed();
  }

  private onRead(n: ReadNotify): void {
    if (n.readerId === this.me.userId) {
      // Read on another device of ours.
      const c = this.conversations.get(conversationKey(n.sessionType, n.sessionId));
      if (c) c.unread = 0;
    } else {
      const c = this.conversation(n.sessionType, n.sessionId);
      c.peerReadUpTo = Math.max(c.peerReadUpTo, n.msgId);
    }
    this.changed();
  }

  private async markOpenRead(): Promise<void> {
    const c = this.open;
    if (c === undefined) return;
    const newest = c.messages.reduce((max, m) => Math.max(max, m.serverMsgId), 0);
    c.unread = 0;
    this.changed();
    if (newest > 0) await this.client.markRead(c.sessionType, c.sessionId, newest);
  }

  private touch(c: Conversation, text: string, time: number): void {
    c.lastText = text;
    c.updatedTime = Math.max(c.updatedTime, time);
  }

  private setLink(link: LinkState): void {
    this.link = link;
    this.changed();
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }
}

function toChatMessage(m: ImMessage): ChatMessage {
  return {
    clientMsgId: m.clientMsgId,
    serverMsgId: m.serverMsgId,
    fromUserId: m.fromUserId,
    text: m.text ?? (m.msgType === MsgType.NOTIFICATION ? '(group updated)' : `(${m.data.length} bytes)`),
    createTime: m.createTime,
    state: 'sent',
  };
}

function visible(): boolean {
  return document.visibilityState !== 'hidden';
}
