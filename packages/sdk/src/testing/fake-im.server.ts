import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import {
  createServer as createTcpServer,
  type AddressInfo,
  type Server as TcpServer,
  type Socket,
} from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  CimErrorCode,
  CommandId,
  ImErrorNumber,
  SessionType,
  commandName,
  decodeBody,
  decodeWsFrame,
  encodeMessageFrame,
  FrameDecoder,
  type BodyInput,
  type BodyOf,
  type Frame,
} from '@mqim/protocol';
import { passwordMd5 } from '../password';
import { FakeStore, type FakeGroup, type FakeUser } from './fake.store';

export interface FakeImServerOptions {
  /** @default 'tcp' */
  transport?: 'tcp' | 'ws';
  users?: FakeUser[];
  groups?: FakeGroup[];
  /**
   * The data of another fake, so that two fakes act as two gates of one cluster (users, messages
   * and sessions shared; each delivers only to its own connections). `users`/`groups` are ignored.
   */
  store?: FakeStore;
  /** The server's limit on a message's msg_data (the real one's `maxMsgDataBytes`). @default 8192 */
  maxMsgDataBytes?: number;
}

/** A frame the fake received, with who sent it. */
export interface ReceivedFrame {
  connId: number;
  /** The connection's user at the time (undefined before login). */
  userId: number | undefined;
  cmd: number;
  seq: number;
  body: Buffer;
}

/** A request as handed to a handler. */
export interface FakeRequest extends ReceivedFrame {
  conn: FakeConnection;
}

/** Handles one command; replaces the fake's default behaviour for it. */
export type FakeHandler = (req: FakeRequest) => void;

/** One client connection as the fake sees it. */
export class FakeConnection {
  userId: number | undefined;
  private serverSeq = 0;

  constructor(
    readonly id: number,
    private readonly sink: { write(frame: Buffer): void; end(): void; destroy(): void },
  ) {}

  /** The server's own counter, 1…65534 then 1 again (spec §1). */
  nextServerSeq(): number {
    this.serverSeq = this.serverSeq >= 65534 ? 1 : this.serverSeq + 1;
    return this.serverSeq;
  }

  write<C extends CommandId>(cmd: C, seq: number, body: BodyInput<C>): void {
    this.sink.write(encodeMessageFrame(cmd, seq, body));
  }

  /** Writes pre-encoded bytes as one frame (or garbage, to test the client's framing). */
  writeRaw(frame: Buffer): void {
    this.sink.write(frame);
  }

  end(): void {
    this.sink.end();
  }

  destroy(): void {
    this.sink.destroy();
  }
}

/**
 * A small in-process CIM server for unit tests: logs users in, stores and acks messages, delivers
 * them to the recipients' connections, answers sessions/history/friends and a few group calls,
 * and records every frame it receives. `handle()` replaces any command's behaviour, e.g. to stay
 * silent (timeouts) or to refuse. Not a reference implementation: just enough protocol to drive
 * a client.
 */
export class FakeImServer {
  readonly received: ReceivedFrame[] = [];
  readonly store: FakeStore;
  private readonly conns = new Set<FakeConnection>();
  private readonly overrides = new Map<number, FakeHandler>();
  private readonly frameWaiters = new Set<(f: ReceivedFrame) => void>();
  private readonly sockets = new Set<{ destroy(): void }>();
  private nextConnId = 1;
  private tcp?: TcpServer;
  private http?: HttpServer;
  private wss?: WebSocketServer;
  url = '';

  private readonly maxMsgDataBytes: number;

  private constructor(options: FakeImServerOptions) {
    this.store = options.store ?? new FakeStore(options.users ?? [], options.groups ?? []);
    this.maxMsgDataBytes = options.maxMsgDataBytes ?? 8 * 1024;
  }

  static async start(options: FakeImServerOptions = {}): Promise<FakeImServer> {
    const server = new FakeImServer(options);
    await (options.transport === 'ws' ? server.listenWs() : server.listenTcp());
    return server;
  }

  /** Open connections, logged in or not. */
  get connections(): FakeConnection[] {
    return [...this.conns];
  }

  connectionsOf(userId: number): FakeConnection[] {
    return this.connections.filter((c) => c.userId === userId);
  }

  handle(cmd: number, handler: FakeHandler): void {
    this.overrides.set(cmd, handler);
  }

  /** The fake's built-in behaviour, for a handler that only sometimes deviates from it. */
  respondByDefault(req: FakeRequest): void {
    this.answerByDefault(req);
  }

  /** Sends a server-initiated frame to every connection of `userId`. */
  push<C extends CommandId>(userId: number, cmd: C, body: BodyInput<C>): void {
    for (const conn of this.connectionsOf(userId)) conn.write(cmd, conn.nextServerSeq(), body);
  }

  /** Resolves with the first received frame (past or future) that matches. */
  waitForFrame(predicate: (f: ReceivedFrame) => boolean, timeoutMs = 2000): Promise<ReceivedFrame> {
    const seen = this.received.find(predicate);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.frameWaiters.delete(waiter);
        reject(new Error(`fake server: no matching frame within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = (f: ReceivedFrame): void => {
        if (!predicate(f)) return;
        clearTimeout(timer);
        this.frameWaiters.delete(waiter);
        resolve(f);
      };
      this.frameWaiters.add(waiter);
    });
  }

  /** Kills every connection abruptly, as a crashed gate or a network cut would. */
  dropAll(): void {
    for (const s of this.sockets) s.destroy();
  }

  async close(): Promise<void> {
    this.dropAll();
    for (const waiter of this.frameWaiters) this.frameWaiters.delete(waiter);
    this.wss?.close();
    await Promise.all([
      this.tcp && new Promise<void>((resolve) => this.tcp!.close(() => resolve())),
      this.http && new Promise<void>((resolve) => this.http!.close(() => resolve())),
    ]);
  }

  // ---- listeners ----

  private async listenTcp(): Promise<void> {
    const tcp = createTcpServer((socket) => this.acceptTcp(socket));
    this.tcp = tcp;
    await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
    this.url = `tcp://127.0.0.1:${(tcp.address() as AddressInfo).port}`;
  }

  private acceptTcp(socket: Socket): void {
    socket.setNoDelay(true);
    this.sockets.add(socket);
    const conn = new FakeConnection(this.nextConnId++, {
      write: (frame) => void (socket.writable && socket.write(frame)),
      end: () => socket.end(),
      destroy: () => socket.destroy(),
    });
    this.conns.add(conn);
    const decoder = new FrameDecoder();
    socket.on('data', (chunk: Buffer) => {
      try {
        decoder.push(chunk, (frame) => this.onFrame(conn, frame));
      } catch {
        socket.destroy();
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.sockets.delete(socket);
      this.conns.delete(conn);
    });
  }

  private async listenWs(): Promise<void> {
    const http = createHttpServer((_req, res) => res.writeHead(426).end());
    const wss = new WebSocketServer({ server: http, path: '/ws', perMessageDeflate: false });
    wss.on('connection', (ws) => this.acceptWs(ws));
    this.http = http;
    this.wss = wss;
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    this.url = `ws://127.0.0.1:${(http.address() as AddressInfo).port}/ws`;
  }

  private acceptWs(ws: WebSocket): void {
    const socket = { destroy: () => ws.terminate() };
    this.sockets.add(socket);
    const conn = new FakeConnection(this.nextConnId++, {
      write: (frame) => ws.send(frame, { binary: true }),
      end: () => ws.close(1000),
      destroy: () => ws.terminate(),
    });
    this.conns.add(conn);
    ws.on('message', (data, isBinary) => {
      try {
        this.onFrame(conn, decodeWsFrame(data, isBinary));
      } catch {
        ws.terminate();
      }
    });
    ws.on('error', () => undefined);
    ws.on('close', () => {
      this.sockets.delete(socket);
      this.conns.delete(conn);
    });
  }

  // ---- protocol ----

  private onFrame(conn: FakeConnection, frame: Frame): void {
    const req: FakeRequest = {
      conn,
      connId: conn.id,
      userId: conn.userId,
      cmd: frame.commandId,
      seq: frame.seq,
      body: Buffer.from(frame.body),
    };
    const { conn: _conn, ...record } = req;
    this.received.push(record);
    for (const waiter of [...this.frameWaiters]) waiter(record);
    const override = this.overrides.get(req.cmd);
    if (override !== undefined) {
      override(req);
      return;
    }
    this.answerByDefault(req);
  }

  private answerByDefault(req: FakeRequest): void {
    const { conn } = req;
    try {
      this.defaultHandler(req);
    } catch (err) {
      if (!(err instanceof Error && 'code' in err && err.code === 'IM_ERR_BAD_BODY')) throw err;
      // What the real server answers to a body that does not decode (a login is answered in kind).
      if (req.cmd === CommandId.LOGIN_AUTH_TOKEN_REQ || req.cmd === CommandId.LOGIN_AUTH_REQ)
        this.loginReply(
          conn,
          req.cmd === CommandId.LOGIN_AUTH_REQ ? CommandId.LOGIN_AUTH_RSP : CommandId.LOGIN_AUTH_TOKEN_RSP,
          req.seq,
          undefined,
          CimErrorCode.USER_INVALID_PARAMETER,
          'malformed login request',
        );
      else this.refuse(conn, 'IM_ERR_BAD_BODY', `invalid ${commandName(req.cmd)} body`, req.cmd, req.seq);
    }
  }

  /** An ERROR_NOTIFY (0x0901) as the real gate and logic write it. */
  private refuse(
    conn: FakeConnection,
    errorName: keyof typeof ImErrorNumber,
    text: string,
    requestCmd: number,
    requestSeq: number,
  ): void {
    conn.write(CommandId.ERROR_NOTIFY, conn.nextServerSeq(), {
      errorCode: ImErrorNumber[errorName],
      errorName,
      text,
      requestCmd,
      requestSeq,
    });
  }

  private defaultHandler(req: FakeRequest): void {
    const { conn, seq, cmd } = req;
    if (
      conn.userId === undefined &&
      cmd !== CommandId.LOGIN_AUTH_TOKEN_REQ &&
      cmd !== CommandId.LOGIN_AUTH_REQ &&
      cmd !== CommandId.CLIENT_CAPABILITIES_REQ // the gate takes 0x0803 before login too
    ) {
      // spec §2: anything but a login before login closes the connection (after saying why).
      this.refuse(conn, 'IM_ERR_NOT_LOGGED_IN', `log in before ${commandName(cmd)}`, cmd, seq);
      conn.end();
      return;
    }
    const me = conn.userId ?? 0;
    const s = this.store;
    switch (cmd) {
      case CommandId.LOGIN_AUTH_TOKEN_REQ: {
        const body = decodeBody(CommandId.LOGIN_AUTH_TOKEN_REQ, req.body);
        const user = s.userById(Number(body.userId));
        const ok = user !== undefined && user.token !== undefined && user.token === body.userToken;
        this.loginReply(
          conn,
          CommandId.LOGIN_AUTH_TOKEN_RSP,
          seq,
          ok ? user : undefined,
          CimErrorCode.LOGIN_INVALID_USER_TOKEN,
          'invalid user id or token',
        );
        return;
      }
      case CommandId.LOGIN_AUTH_REQ: {
        const body = decodeBody(CommandId.LOGIN_AUTH_REQ, req.body);
        const user = s.userByName(body.userName);
        const ok = user !== undefined && passwordMd5(user.password) === body.userPwd;
        this.loginReply(
          conn,
          CommandId.LOGIN_AUTH_RSP,
          seq,
          ok ? user : undefined,
          CimErrorCode.LOGIN_INVALID_USER_OR_PWD,
          'invalid user name or password',
        );
        return;
      }
      case CommandId.LOGIN_HEARTBEAT:
        conn.write(CommandId.LOGIN_HEARTBEAT, conn.nextServerSeq(), {});
        return;
      case CommandId.LOGIN_AUTH_LOGOUT_REQ:
        conn.write(CommandId.LOGIN_AUTH_LOGOUT_RSP, seq, { resultCode: 200 });
        conn.end();
        return;
      case CommandId.MSG_DATA:
        this.onSend(conn, seq, decodeBody(CommandId.MSG_DATA, req.body));
        return;
      case CommandId.MSG_DATA_ACK:
        return; // a receipt: recorded in `received`, nothing to answer
      case CommandId.MSG_READ_ACK: {
        const body = decodeBody(CommandId.MSG_READ_ACK, req.body);
        const sessionId = Number(body.sessionId);
        s.markRead(me, body.sessionType, sessionId, Number(body.msgId));
        const notify = { userId: me, sessionId, msgId: Number(body.msgId), sessionType: body.sessionType };
        const peers =
          body.sessionType === 1 ? [sessionId] : s.groupMembers(sessionId).filter((u) => u !== me);
        for (const peer of peers) this.push(peer, CommandId.MSG_READ_NOTIFY, notify);
        return;
      }
      case CommandId.LIST_RECENT_CONTACT_SESSION_REQ: {
        const sessions = s.recentSessions(me);
        conn.write(CommandId.LIST_RECENT_CONTACT_SESSION_RSP, seq, {
          userId: me,
          unreadCounts: sessions.reduce((sum, x) => sum + (x.unreadCnt ?? 0), 0),
          contactSessionList: sessions,
        });
        return;
      }
      case CommandId.RECALL_REQ: {
        const body = decodeBody(CommandId.RECALL_REQ, req.body);
        const sessionId = Number(body.sessionId);
        const m = s.recall(me, body.sessionType, sessionId, Number(body.serverMsgId));
        if (m === undefined) {
          conn.write(CommandId.ERROR_NOTIFY, conn.nextServerSeq(), {
            errorCode: ImErrorNumber.IM_ERR_FORBIDDEN,
            errorName: 'IM_ERR_FORBIDDEN',
            text: 'only the sender may recall a message',
            requestCmd: cmd,
            requestSeq: seq,
          });
          return;
        }
        const recalledAt = Math.floor(Date.now() / 1000);
        conn.write(CommandId.RECALL_RSP, seq, {
          sessionType: body.sessionType,
          sessionId,
          serverMsgId: m.serverMsgId,
          resultCode: 200,
          recalledAt,
        });
        const audience = m.sessionType === 2 ? s.groupMembers(m.toSessionId) : [m.fromUserId, m.toSessionId];
        for (const userId of audience)
          for (const c of this.connectionsOf(userId))
            c.write(CommandId.RECALL_NOTIFY, c.nextServerSeq(), {
              sessionType: m.sessionType,
              toSessionId: m.toSessionId,
              serverMsgId: m.serverMsgId,
              clientMsgId: m.clientMsgId,
              fromUserId: m.fromUserId,
              recalledBy: me,
              recalledAt,
            });
        return;
      }
      case CommandId.LIST_MSG_REQ: {
        const body = decodeBody(CommandId.LIST_MSG_REQ, req.body);
        const sessionId = Number(body.sessionId);
        const msgList = s.history(
          me,
          body.sessionType,
          sessionId,
          Number(body.endMsgId),
          body.limitCount || 20,
        );
        conn.write(CommandId.LIST_MSG_RSP, seq, {
          userId: me,
          sessionType: body.sessionType,
          sessionId,
          endMsgId: body.endMsgId,
          msgList,
        });
        return;
      }
      case CommandId.MSG_GET_LATEST_MSG_ID_REQ: {
        const body = decodeBody(CommandId.MSG_GET_LATEST_MSG_ID_REQ, req.body);
        const [latest] = s.history(me, body.sessionType, Number(body.sessionId), 0, 1);
        conn.write(CommandId.MSG_GET_LATEST_MSG_ID_RSP, seq, {
          ...body,
          userId: me,
          latestMsgId: latest?.clientMsgId ?? '',
        });
        return;
      }
      case CommandId.MSG_GET_BY_MSG_ID_REQ: {
        const body = decodeBody(CommandId.MSG_GET_BY_MSG_ID_REQ, req.body);
        const wanted = new Set(body.msgIdList);
        const msgList = s
          .history(me, body.sessionType, Number(body.sessionId), 0, 1000)
          .filter((m) => wanted.has(m.clientMsgId ?? ''));
        conn.write(CommandId.MSG_GET_BY_MSG_ID_RSP, seq, {
          userId: me,
          sessionType: body.sessionType,
          sessionId: body.sessionId,
          msgList,
        });
        return;
      }
      case CommandId.FRIEND_QUERY_USER_LIST_REQ:
        conn.write(CommandId.FRIEND_QUERY_USER_LIST_RSP, seq, {
          userId: me,
          userInfoList: s.contactsOf(me),
        });
        return;
      case CommandId.GROUP_LIST_MEMBER_REQ: {
        const body = decodeBody(CommandId.GROUP_LIST_MEMBER_REQ, req.body);
        const members = s.groupMembers(Number(body.groupId));
        conn.write(CommandId.GROUP_LIST_MEMBER_RSP, seq, {
          userId: me,
          groupId: body.groupId,
          // Strangers learn nothing about who is in a group.
          memberIdList: members.includes(me) ? members : [],
        });
        return;
      }
      default:
        return; // unknown after login: ignored (spec §2)
    }
  }

  private loginReply(
    conn: FakeConnection,
    cmd: typeof CommandId.LOGIN_AUTH_TOKEN_RSP | typeof CommandId.LOGIN_AUTH_RSP,
    seq: number,
    user: FakeUser | undefined,
    failure: number,
    failureText: string,
  ): void {
    const serverTime = Math.floor(Date.now() / 1000);
    if (user === undefined) {
      conn.write(cmd, seq, { serverTime, resultCode: failure, resultString: failureText });
      return;
    }
    conn.userId = user.userId;
    conn.write(cmd, seq, {
      serverTime,
      resultCode: CimErrorCode.SUCCESS,
      resultString: 'success',
      userInfo: this.store.userInfo(user),
    });
  }

  /**
   * The real server's refusals of a send, in its order (gate, then logic): their error codes and
   * texts are what the SDK's error paths are tested against on both (testing/error-paths.cases.ts).
   */
  private sendRefusal(
    me: number,
    msg: BodyOf<typeof CommandId.MSG_DATA>,
  ): [keyof typeof ImErrorNumber, string] | undefined {
    const toSessionId = Number(msg.toSessionId);
    const fromUserId = Number(msg.fromUserId);
    if (msg.msgData.length > this.maxMsgDataBytes)
      return [
        'IM_ERR_INVALID_ARGUMENT',
        `msg_data is ${msg.msgData.length} bytes; the limit is ${this.maxMsgDataBytes}`,
      ];
    if (fromUserId !== 0 && fromUserId !== me)
      return ['IM_ERR_FORBIDDEN', 'from_user_id is not the logged-in user'];
    if (!/^[\x21-\x7e]{1,64}$/.test(msg.clientMsgId))
      return ['IM_ERR_INVALID_ARGUMENT', 'client_msg_id must be 1-64 printable ASCII characters'];
    if (msg.sessionType === SessionType.SINGLE) {
      if (toSessionId === me) return ['IM_ERR_INVALID_ARGUMENT', 'cannot send a message to oneself'];
      if (this.store.userById(toSessionId) === undefined)
        return ['IM_ERR_NOT_FOUND', `user ${toSessionId} does not exist`];
      return undefined;
    }
    if (msg.sessionType === SessionType.GROUP) {
      const members = this.store.groupMembers(toSessionId);
      if (members.length === 0) return ['IM_ERR_NOT_FOUND', `group ${toSessionId} does not exist`];
      if (!members.includes(me)) return ['IM_ERR_FORBIDDEN', 'only members may send to a group'];
      return undefined;
    }
    return ['IM_ERR_INVALID_ARGUMENT', `session_type ${msg.sessionType} is not 1 (single) or 2 (group)`];
  }

  private onSend(conn: FakeConnection, seq: number, msg: BodyOf<typeof CommandId.MSG_DATA>): void {
    const me = conn.userId!;
    const toSessionId = Number(msg.toSessionId);
    const refusal = this.sendRefusal(me, msg);
    const ack = { fromUserId: me, toSessionId, clientMsgId: msg.clientMsgId, sessionType: msg.sessionType };
    if (refusal !== undefined) {
      // The refused ack (res_code UNKNOWN, no id) then the notice saying why.
      const createTime = Math.floor(Date.now() / 1000);
      conn.write(CommandId.MSG_DATA_ACK, seq, { ...ack, serverMsgId: 0, resCode: 0, createTime });
      this.refuse(conn, refusal[0], refusal[1], CommandId.MSG_DATA, seq);
      return;
    }
    const { stored, isNew } = this.store.storeMessage(me, msg);
    conn.write(CommandId.MSG_DATA_ACK, seq, {
      ...ack,
      serverMsgId: stored.serverMsgId,
      resCode: 1,
      createTime: stored.createTime,
    });
    if (!isNew) return;
    const delivery = { ...stored, fromNickName: this.store.userById(me)?.nickName ?? '' };
    const recipients = msg.sessionType === 2 ? this.store.groupMembers(toSessionId) : [toSessionId, me];
    for (const userId of recipients) {
      for (const c of this.connectionsOf(userId)) {
        if (c !== conn) c.write(CommandId.MSG_DATA, c.nextServerSeq(), delivery);
      }
    }
  }
}
