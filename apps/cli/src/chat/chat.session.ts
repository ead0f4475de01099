import { ImClientError, MsgType, SessionType, type ImClient, type ImMessage } from '@mqim/sdk';
import { clock, type ChatView } from './chat.view';

interface Conversation {
  sessionType: number;
  sessionId: number;
}

export const CHAT_HELP = [
  'Commands:',
  '  /sessions        recent conversations with unread counts',
  '  /open <userId>   open a conversation (/open #<groupId> for a group)',
  '  /history [n]     the last n messages of the open conversation (default 20)',
  '  /groups          the groups you are in (invited ones included)',
  '  /create <name> [userId ...]  create a group with those members and open it',
  '  /invite <userId ...>  add users to the open group',
  '  /leave           leave the open group',
  '  /recall <msgId>  recall one of your messages in the open conversation (its [id] in front)',
  '  /friends         your contacts, with who is online',
  '  /add <userId> [note]   ask someone to be your contact',
  '  /accept <userId> / /decline <userId>   answer a contact request',
  '  /requests        contact requests waiting, yours, and whom you block',
  '  /remove <userId>, /block <userId>, /unblock <userId>',
  '  /help            this list',
  '  /quit            log out and leave',
  'Anything else is sent to the open conversation.',
];

const HISTORY_ON_OPEN = 20;

type ContactCommand = 'add' | 'accept' | 'decline' | 'remove' | 'block' | 'unblock';

/** One logged-in chat: the open conversation, user names, and what each command does. */
export class ChatSession {
  private open: Conversation | undefined;
  private readonly names = new Map<number, string>();
  /** Contacts' presence, from the subscription's answer and its 0x0826 notices. */
  private readonly online = new Map<number, number>();

  constructor(
    private readonly client: ImClient,
    private readonly view: ChatView,
  ) {}

  private get me(): number {
    return this.client.user?.userId ?? 0;
  }

  /** Subscribes to the client's events and learns the names of the user's contacts. */
  async start(): Promise<void> {
    this.client.on('message', (m) => this.onMessage(m));
    this.client.on('readNotify', (n) => {
      if (n.readerId !== this.me) this.view.print(`✓✓ read by ${this.nameOf(n.readerId)}${this.where(n)}`);
    });
    this.client.on('recalled', (n) => {
      const who =
        n.recalledBy === n.fromUserId ? this.nameOf(n.recalledBy) : `${this.nameOf(n.recalledBy)} (owner)`;
      const whose = n.fromUserId === this.me ? 'your' : `${this.nameOf(n.fromUserId)}'s`;
      this.view.print(`↺ ${who} recalled ${whose} message [${n.serverMsgId}]${this.where(n)}`);
    });
    this.client.on('kickedOut', (k) =>
      this.view.print(`! The server closed this session${k.text ? `: ${k.text}` : ''}.`),
    );
    this.client.on('serverError', (e) => this.view.print(`! Server error ${e.errorName}: ${e.text}`));
    this.client.on('disconnected', (d) =>
      this.view.print(
        `! Disconnected (${d.reason}).${d.willReconnect ? ' Reconnecting…' : ' Type /quit to leave.'}`,
      ),
    );
    this.client.on('reconnectFailed', (e) =>
      this.view.print(`! Could not reconnect: ${e.message}. Type /quit to leave.`),
    );
    this.client.on('reconnected', (r) => void this.afterReconnect(r.url));
    this.client.on('typing', (t) => {
      const open = this.open;
      if (!t.typing || open?.sessionType !== SessionType.SINGLE || open.sessionId !== t.fromUserId) return;
      this.view.print(`… ${this.nameOf(t.fromUserId)} is typing`);
    });
    this.client.on('presence', (p) => {
      const was = (this.online.get(p.userId) ?? 0) > 0;
      this.online.set(p.userId, p.devices);
      if (p.online !== was)
        this.view.print(
          `${p.online ? '●' : '○'} ${this.nameOf(p.userId)} is ${p.online ? 'online' : 'offline'}`,
        );
    });
    this.client.on('contact', (n) => {
      if (n.peerUser?.nickName) this.names.set(n.peerUserId, n.peerUser.nickName);
      const who = `${this.nameOf(n.peerUserId)} (user ${n.peerUserId})`;
      if (n.event === 'requested')
        this.view.print(
          `+ ${who} asks to be your contact${n.request?.note ? `: "${n.request.note}"` : ''} — /accept ${n.peerUserId}`,
        );
      else if (n.event === 'accepted') this.view.print(`+ ${who} is now your contact`);
      else if (n.event === 'declined') this.view.print(`- ${who} declined your request`);
      else if (n.event === 'removed') this.view.print(`- ${who} is no longer your contact`);
      if (n.event === 'accepted') void this.watchPresence();
    });
    this.client.on('profile', (u) => {
      if (u.userId === this.me || !u.nickName) return;
      const before = this.names.get(u.userId);
      this.names.set(u.userId, u.nickName);
      if (before !== u.nickName) this.view.print(`~ user ${u.userId} is now called ${u.nickName}`);
    });
    await this.loadNames();
    void this.watchPresence();
  }

  /** Presence notices on this connection, and the contacts' state now (again after a reconnect). */
  private async watchPresence(): Promise<void> {
    try {
      for (const p of await this.client.subscribePresence()) this.online.set(p.userId, p.devices);
    } catch {
      // A server without the extension (CoffeeChat's) answers nothing: no presence, chat works.
    }
  }

  /** Handles one input line; resolves 'quit' when the user wants to leave. */
  async handle(line: string): Promise<'quit' | undefined> {
    const text = line.trim();
    if (text === '') return undefined;
    if (!text.startsWith('/')) {
      await this.send(text);
      return undefined;
    }
    const [command, ...args] = text.split(/\s+/);
    try {
      switch (command) {
        case '/quit':
        case '/exit':
          return 'quit';
        case '/help':
          this.view.print(...CHAT_HELP);
          break;
        case '/sessions':
          await this.sessions();
          break;
        case '/open':
          await this.openConversation(args[0]);
          break;
        case '/history':
          await this.history(args[0]);
          break;
        case '/friends':
          await this.friends();
          break;
        case '/groups':
          await this.groups();
          break;
        case '/create':
          await this.createGroup(args);
          break;
        case '/invite':
          await this.invite(args);
          break;
        case '/leave':
          await this.leave();
          break;
        case '/recall':
          await this.recall(args[0]);
          break;
        case '/add':
          await this.contactChange('add', args[0], args.slice(1).join(' '));
          break;
        case '/accept':
        case '/decline':
        case '/remove':
        case '/block':
        case '/unblock':
          await this.contactChange(command.slice(1) as ContactCommand, args[0]);
          break;
        case '/requests':
          await this.requests();
          break;
        default:
          this.view.print(`Unknown command ${command}; /help lists them.`);
      }
    } catch (err) {
      this.view.print(`✗ ${describeError(err)}`);
    }
    return undefined;
  }

  private async send(text: string): Promise<void> {
    const conv = this.open;
    if (conv === undefined) {
      this.view.print('Open a conversation first: /open <userId> (see /sessions or /friends).');
      return;
    }
    try {
      const ack = await this.client.send({ to: conv.sessionId, sessionType: conv.sessionType, text });
      this.view.print(`[${ack.serverMsgId}] [${clock(ack.createTime)}] me: ${text}  ✓`);
    } catch (err) {
      this.view.print(`✗ not sent: ${describeError(err)}`);
    }
  }

  private async sessions(): Promise<void> {
    const { unreadTotal, sessions } = await this.client.recentSessions();
    if (sessions.length === 0) {
      this.view.print('No conversations yet. /friends lists people to write to.');
      return;
    }
    this.view.print(
      `Recent sessions (${unreadTotal} unread):`,
      ...sessions.map((s) => {
        const last = s.lastMessage;
        const preview = last
          ? `  [${clock(last.createTime)}] ${this.nameOf(last.fromUserId)}: ${previewOf(last)}`
          : '';
        const unread = s.unreadCount > 0 ? `${s.unreadCount} unread` : 'read';
        return `  ${this.titleOf(s).padEnd(22)} ${unread.padEnd(10)}${preview}`;
      }),
    );
  }

  private async openConversation(arg: string | undefined): Promise<void> {
    const conv = parseTarget(arg);
    if (conv === undefined) {
      this.view.print('Usage: /open <userId> or /open #<groupId>');
      return;
    }
    this.open = conv;
    this.view.print(`── ${this.titleOf(conv)} ──`);
    const newest = await this.printHistory(HISTORY_ON_OPEN);
    if (newest > 0) await this.client.markRead(conv.sessionType, conv.sessionId, newest);
  }

  private async history(arg: string | undefined): Promise<void> {
    if (this.open === undefined) {
      this.view.print('Open a conversation first: /open <userId>.');
      return;
    }
    const n = arg === undefined ? HISTORY_ON_OPEN : Number(arg);
    if (!Number.isInteger(n) || n <= 0) {
      this.view.print('Usage: /history [n]');
      return;
    }
    await this.printHistory(n);
  }

  /** Prints the open conversation's last `limit` messages; returns the newest serverMsgId (0 if none). */
  private async printHistory(limit: number): Promise<number> {
    const conv = this.open!;
    const messages = await this.client.history({ ...conv, limit });
    if (messages.length === 0) {
      this.view.print('(no messages yet)');
      return 0;
    }
    this.view.print(...messages.map((m) => this.formatMessage(m)));
    return messages[messages.length - 1].serverMsgId;
  }

  private async recall(arg: string | undefined): Promise<void> {
    const conv = this.open;
    if (conv === undefined) {
      this.view.print('Open a conversation first: /open <userId>.');
      return;
    }
    const serverMsgId = Number(arg);
    if (arg === undefined || !Number.isSafeInteger(serverMsgId) || serverMsgId <= 0) {
      this.view.print('Usage: /recall <msgId>  (the [number] in front of a message)');
      return;
    }
    await this.client.recall({ ...conv, serverMsgId });
    // The 'recalled' event that follows prints the outcome for every device alike.
  }

  private async friends(): Promise<void> {
    const users = await this.client.friends();
    for (const u of users) if (u.nickName) this.names.set(u.userId, u.nickName);
    this.view.print(
      users.length === 0
        ? 'No contacts yet: /add <userId> asks someone.'
        : 'Contacts (/open <userId> to chat):',
      ...users.map((u) => {
        const devices = this.online.get(u.userId) ?? 0;
        const mark = devices > 0 ? `● online${devices > 1 ? ` (${devices} devices)` : ''}` : '';
        return `  ${String(u.userId).padStart(6)}  ${(u.nickName || `user ${u.userId}`).padEnd(20)} ${mark}`.trimEnd();
      }),
    );
  }

  private async contactChange(command: ContactCommand, arg: string | undefined, note = ''): Promise<void> {
    const userId = Number(arg);
    if (arg === undefined || !Number.isSafeInteger(userId) || userId <= 0) {
      this.view.print(`Usage: /${command} <userId>`);
      return;
    }
    const change =
      command === 'add'
        ? await this.client.requestFriend(userId, note)
        : command === 'accept'
          ? await this.client.acceptFriend(userId)
          : command === 'decline'
            ? await this.client.declineFriend(userId)
            : command === 'remove'
              ? await this.client.removeFriend(userId)
              : command === 'block'
                ? await this.client.blockUser(userId)
                : await this.client.unblockUser(userId);
    const who = `${this.nameOf(userId)} (user ${userId})`;
    this.view.print(
      {
        none: `✓ ${who}: not a contact`,
        requested: `✓ asked ${who}; they will see your request`,
        pending: `✓ ${who} asked you: /accept ${userId}`,
        friends: `✓ ${who} is your contact`,
        blocked: `✓ ${who} is blocked`,
      }[change.state],
    );
    if (change.state === 'friends') {
      await this.loadNames();
      await this.watchPresence();
    }
  }

  private async requests(): Promise<void> {
    const { incoming, outgoing, blockedUserIds } = await this.client.friendRequests();
    for (const r of incoming) if (r.fromUser?.nickName) this.names.set(r.fromUserId, r.fromUser.nickName);
    this.view.print(
      incoming.length ? 'Asking you (/accept <userId>):' : 'Nobody is asking you.',
      ...incoming.map(
        (r) =>
          `  ${String(r.fromUserId).padStart(6)}  ${this.nameOf(r.fromUserId)}${r.note ? `: "${r.note}"` : ''}`,
      ),
      ...(outgoing.length
        ? [
            'You asked:',
            ...outgoing.map((r) => `  ${String(r.toUserId).padStart(6)}  ${this.nameOf(r.toUserId)}`),
          ]
        : []),
      ...(blockedUserIds.length ? [`Blocked: ${blockedUserIds.join(', ')}`] : []),
    );
  }

  /**
   * The groups the user is in. There is no joining by id in the CIM protocol: a member adds you
   * (`/invite`, or the HTTP API), and the group then shows here and its messages arrive.
   */
  private async groups(): Promise<void> {
    const versions = await this.client.listGroups();
    if (versions.length === 0) {
      this.view.print('No groups yet. /create <name> [userId ...] makes one.');
      return;
    }
    const infos = await this.client.groupInfo(versions.map((v) => v.groupId));
    this.view.print(
      'Groups (/open #<groupId> to chat):',
      ...infos.map(
        (g) => `  #${String(g.groupId).padEnd(8)} ${g.name}${g.ownerId === this.me ? '  (owner)' : ''}`,
      ),
    );
  }

  private async createGroup(args: string[]): Promise<void> {
    const [name, ...rest] = args;
    const memberIds = rest.map(Number);
    if (!name || memberIds.some((id) => !Number.isSafeInteger(id) || id <= 0)) {
      this.view.print('Usage: /create <name> [userId ...]');
      return;
    }
    const { group } = await this.client.createGroup({ name, memberIds });
    this.view.print(`Created group #${group.groupId} "${group.name}".`);
    await this.openConversation(`#${group.groupId}`);
  }

  private async invite(args: string[]): Promise<void> {
    const conv = this.open;
    const ids = args.map(Number);
    if (
      conv?.sessionType !== SessionType.GROUP ||
      ids.length === 0 ||
      ids.some((id) => !Number.isSafeInteger(id) || id <= 0)
    ) {
      this.view.print('Open a group first, then: /invite <userId ...>');
      return;
    }
    await this.client.inviteMembers(conv.sessionId, ids);
    this.view.print(`Invited ${ids.map((id) => this.nameOf(id)).join(', ')} to group #${conv.sessionId}.`);
  }

  private async leave(): Promise<void> {
    const conv = this.open;
    if (conv?.sessionType !== SessionType.GROUP) {
      this.view.print('Open a group first: /open #<groupId>.');
      return;
    }
    await this.client.exitGroup(conv.sessionId);
    this.open = undefined;
    this.view.print(`Left group #${conv.sessionId}.`);
  }

  private onMessage(m: ImMessage): void {
    if (m.fromNickName && m.fromUserId !== this.me) this.names.set(m.fromUserId, m.fromNickName);
    const conv = this.open;
    if (conv !== undefined && conv.sessionType === m.sessionType && conv.sessionId === m.sessionId) {
      this.view.print(this.formatMessage(m));
      // The user is looking at it: tell the sender it was read.
      if (m.fromUserId !== this.me)
        void this.client.markRead(m.sessionType, m.sessionId, m.serverMsgId).catch(() => undefined);
      return;
    }
    const target = m.sessionType === SessionType.GROUP ? `#${m.sessionId}` : String(m.sessionId);
    this.view.print(`${this.formatMessage(m)}   (${this.titleOf(m)}: /open ${target})`);
  }

  /** The SDK has already printed (through `message`) what arrived meanwhile; this reports unread. */
  private async afterReconnect(url: string): Promise<void> {
    try {
      const { unreadTotal } = await this.client.recentSessions();
      this.view.print(`Reconnected to ${url}.${unreadTotal > 0 ? ` ${unreadTotal} unread: /sessions` : ''}`);
    } catch (err) {
      this.view.print(`Reconnected, but could not sync: ${describeError(err)}`);
    }
  }

  private async loadNames(): Promise<void> {
    const me = this.client.user;
    if (me?.nickName) this.names.set(me.userId, me.nickName);
    try {
      for (const u of await this.client.friends()) if (u.nickName) this.names.set(u.userId, u.nickName);
    } catch {
      // Names are a nicety; ids work without them.
    }
  }

  private formatMessage(m: ImMessage): string {
    const who = m.fromUserId === this.me ? 'me' : this.nameOf(m.fromUserId);
    const group = m.sessionType === SessionType.GROUP ? `#${m.sessionId} ` : '';
    const body = m.recalled ? '(recalled)' : previewOf(m);
    // The id first: it is what /recall takes.
    return `[${m.serverMsgId}] [${clock(m.createTime)}] ${group}${who}: ${body}`;
  }

  private titleOf(conv: Conversation): string {
    return conv.sessionType === SessionType.GROUP
      ? `group #${conv.sessionId}`
      : `${this.nameOf(conv.sessionId)} (user ${conv.sessionId})`;
  }

  private where(n: Conversation): string {
    const open = this.open;
    if (open !== undefined && open.sessionType === n.sessionType && open.sessionId === n.sessionId) return '';
    return n.sessionType === SessionType.GROUP ? ` in group #${n.sessionId}` : '';
  }

  private nameOf(userId: number): string {
    if (userId === this.me) return 'me';
    return this.names.get(userId) ?? `user ${userId}`;
  }
}

function parseTarget(arg: string | undefined): Conversation | undefined {
  if (arg === undefined) return undefined;
  const group = arg.startsWith('#');
  const id = Number(group ? arg.slice(1) : arg);
  if (!Number.isSafeInteger(id) || id <= 0) return undefined;
  return { sessionType: group ? SessionType.GROUP : SessionType.SINGLE, sessionId: id };
}

function previewOf(m: { msgType: number; text: string | undefined; data: Uint8Array }): string {
  if (m.msgType === MsgType.TEXT) return m.text ?? '';
  const recall = recallTip(m);
  if (recall !== undefined) return `(recalled message [${recall}])`;
  const kind = Object.entries(MsgType).find(([, v]) => v === m.msgType)?.[0] ?? `type ${m.msgType}`;
  return `<${kind.toLowerCase()}, ${m.data.length} bytes>`;
}

/** The recalled id named by a recall notice (a TIPS message mqim stores), else undefined. */
function recallTip(m: { msgType: number; data: Uint8Array }): string | undefined {
  if (m.msgType !== MsgType.TIPS) return undefined;
  try {
    const tip = JSON.parse(new TextDecoder().decode(m.data)) as { tipsType?: unknown; serverMsgId?: unknown };
    return tip.tipsType === 'recall' ? String(tip.serverMsgId) : undefined;
  } catch {
    return undefined;
  }
}

function describeError(err: unknown): string {
  if (err instanceof ImClientError) return `${err.message} (${err.code})`;
  return err instanceof Error ? err.message : String(err);
}
