import { CIM, conversationKey } from '@mqim/protocol';

export interface FakeUser {
  userId: number;
  userName: string;
  /** Plain text; the fake compares MD5s as the server does. */
  password: string;
  token?: string;
  nickName?: string;
}

export interface FakeGroup {
  groupId: number;
  name: string;
  ownerId: number;
  memberIds: number[];
}

/** A message as the fake stores it: the CIMMsgData fields, ids as numbers. */
export interface StoredMessage {
  fromUserId: number;
  toSessionId: number;
  clientMsgId: string;
  serverMsgId: number;
  createTime: number;
  msgType: number;
  sessionType: number;
  msgData: Buffer;
}

/** The fake server's data: users, groups, messages, read marks. Linear scans; tests are small. */
export class FakeStore {
  readonly messages: StoredMessage[] = [];
  private readonly counters = new Map<string, number>();
  private readonly readUpTo = new Map<string, number>();
  private readonly recalled = new Set<StoredMessage>();

  readonly users: FakeUser[];
  readonly groups: FakeGroup[];

  /** Copies its inputs, so a test may change users or groups without touching shared fixtures. */
  constructor(users: readonly FakeUser[], groups: readonly FakeGroup[]) {
    this.users = users.map((u) => ({ ...u }));
    this.groups = groups.map((g) => ({ ...g, memberIds: [...g.memberIds] }));
  }

  userById(userId: number): FakeUser | undefined {
    return this.users.find((u) => u.userId === userId);
  }

  userByName(userName: string): FakeUser | undefined {
    return this.users.find((u) => u.userName === userName);
  }

  userInfo(user: FakeUser): CIM.Def.CIMUserInfo.$Properties {
    return { userId: user.userId, nickName: user.nickName ?? user.userName };
  }

  /**
   * 0x0601 lists contacts, as the real server does (issue 12). The fake has no friend requests:
   * the first user is everyone's contact, the others are strangers to each other.
   */
  contactsOf(userId: number): CIM.Def.CIMUserInfo.$Properties[] {
    const hub = this.users[0]?.userId;
    return this.users
      .filter((u) => u.userId !== userId && (userId === hub || u.userId === hub))
      .map((u) => this.userInfo(u));
  }

  groupMembers(groupId: number): number[] {
    const group = this.groups.find((g) => g.groupId === groupId);
    return group === undefined ? [] : [group.ownerId, ...group.memberIds.filter((m) => m !== group.ownerId)];
  }

  /** Stores a send; a repeated (sender, clientMsgId) returns the first copy (idempotent sends). */
  storeMessage(
    from: number,
    msg: Omit<CIM.Message.CIMMsgData, 'toJSON'>,
  ): { stored: StoredMessage; isNew: boolean } {
    const existing = this.messages.find((m) => m.fromUserId === from && m.clientMsgId === msg.clientMsgId);
    if (existing !== undefined) return { stored: existing, isNew: false };
    const toSessionId = Number(msg.toSessionId);
    const key = conversationKey(msg.sessionType, from, toSessionId);
    const serverMsgId = (this.counters.get(key) ?? 0) + 1;
    this.counters.set(key, serverMsgId);
    const stored: StoredMessage = {
      fromUserId: from,
      toSessionId,
      clientMsgId: msg.clientMsgId,
      serverMsgId,
      createTime: Math.floor(Date.now() / 1000),
      msgType: msg.msgType,
      sessionType: msg.sessionType,
      msgData: Buffer.from(msg.msgData),
    };
    this.messages.push(stored);
    return { stored, isNew: true };
  }

  /** Messages of `userId`'s conversation older than `endMsgId` (0 = newest), ascending, at most `limit`. */
  history(
    userId: number,
    sessionType: number,
    sessionId: number,
    endMsgId: number,
    limit: number,
  ): CIM.Def.CIMMsgInfo.$Properties[] {
    return this.conversation(userId, sessionType, sessionId)
      .filter((m) => endMsgId === 0 || m.serverMsgId < endMsgId)
      .slice(-limit)
      .map((m) =>
        this.recalled.has(m)
          ? { ...m, msgResCode: 1, msgStatus: 8, msgData: Buffer.alloc(0) }
          : { ...m, msgResCode: 1, msgStatus: 5 },
      );
  }

  /**
   * mqim recall, the part clients see: the sender's own message of the conversation is marked
   * (history withholds its body). No window, no notice message, no group owners.
   * @returns the message, or undefined when `userId` may not recall it
   */
  recall(
    userId: number,
    sessionType: number,
    sessionId: number,
    serverMsgId: number,
  ): StoredMessage | undefined {
    const m = this.conversation(userId, sessionType, sessionId).find((x) => x.serverMsgId === serverMsgId);
    if (m === undefined || m.fromUserId !== userId) return undefined;
    this.recalled.add(m);
    return m;
  }

  markRead(userId: number, sessionType: number, sessionId: number, msgId: number): void {
    const newest = this.conversation(userId, sessionType, sessionId).at(-1)?.serverMsgId ?? 0;
    this.readUpTo.set(`${userId}:${sessionType}:${sessionId}`, msgId === 0 ? newest : msgId);
  }

  recentSessions(userId: number): CIM.Def.CIMContactSessionInfo.$Properties[] {
    const sessions = new Map<string, { type: number; id: number }>();
    for (const m of this.messages) {
      const peer = this.sessionOf(userId, m);
      if (peer !== undefined) sessions.set(`${m.sessionType}:${peer}`, { type: m.sessionType, id: peer });
    }
    return [...sessions.values()]
      .map(({ type, id }) => {
        const msgs = this.conversation(userId, type, id);
        const last = msgs.at(-1)!;
        const read = this.readUpTo.get(`${userId}:${type}:${id}`) ?? 0;
        return {
          sessionId: id,
          sessionType: type,
          sessionStatus: 1,
          unreadCnt: msgs.filter((m) => m.fromUserId !== userId && m.serverMsgId > read).length,
          updatedTime: last.createTime,
          msgId: last.clientMsgId,
          serverMsgId: last.serverMsgId,
          msgTimeStamp: last.createTime,
          msgData: last.msgData,
          msgType: last.msgType,
          msgFromUserId: last.fromUserId,
          msgStatus: 5,
          // Newest first: by position of the newest message, stripped below.
          order: this.messages.indexOf(last),
        };
      })
      .sort((a, b) => b.order - a.order)
      .map(({ order: _order, ...session }) => session);
  }

  private conversation(userId: number, sessionType: number, sessionId: number): StoredMessage[] {
    return this.messages.filter(
      (m) => m.sessionType === sessionType && this.sessionOf(userId, m) === sessionId,
    );
  }

  /** The session `m` belongs to from `userId`'s side, or undefined if it is not theirs. */
  private sessionOf(userId: number, m: StoredMessage): number | undefined {
    if (m.sessionType === 2)
      return this.groupMembers(m.toSessionId).includes(userId) ? m.toSessionId : undefined;
    if (m.fromUserId === userId) return m.toSessionId;
    if (m.toSessionId === userId) return m.fromUserId;
    return undefined;
  }
}
