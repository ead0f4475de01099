import { PublisherBusyError, type BatchPublisher } from '@mqim/bus';
import {
  CIM,
  CommandId,
  RECEIPT_BATCH_TAG,
  SUPPORTED_CAPABILITIES,
  commandName,
  conversationKey,
  encodeRefusedSendAck,
  isAllowedBeforeLogin,
  mqim,
  toId,
  type ImErrorCode,
} from '@mqim/protocol';
import type { Connection } from './connection';
import type { GateContext } from './gate.context';
import { QUERIES } from './query.budget';
import { upstreamOrderKey } from './upstream.order-key';
import type { UpstreamPublisher } from './upstream.publisher';
import type { UserSendLimiter } from './user-send.limiter';

const EMPTY = new Uint8Array(0);

/** Commands the gate hands to logic as they are (after login). */
export const TO_LOGIC = new Set<number>([
  CommandId.LIST_RECENT_CONTACT_SESSION_REQ,
  CommandId.LIST_MSG_REQ,
  CommandId.MSG_GET_LATEST_MSG_ID_REQ,
  CommandId.MSG_GET_BY_MSG_ID_REQ,
  CommandId.FRIEND_QUERY_USER_LIST_REQ,
  CommandId.GROUP_CREATE_DEFAULT_REQ,
  CommandId.GROUP_DISBINGDING_REQ,
  CommandId.GROUP_EXIT_REQ,
  CommandId.GROUP_LIST_REQ,
  CommandId.GROUP_INFO_REQ,
  CommandId.GROUP_INVITE_MEMBER_REQ,
  CommandId.GROUP_KICK_OUT_MEMBER_REQ,
  CommandId.GROUP_LIST_MEMBER_REQ,
  CommandId.VOIP_INVITE_REQ,
  CommandId.VOIP_INVITE_REPLY,
  CommandId.VOIP_INVITE_REPLY_ACK,
  CommandId.VOIP_HEARTBEAT,
  CommandId.VOIP_BYE_REQ,
  // Group roles, mute, transfer, read receipts (0x0840-0x084C, ADR 0015).
  CommandId.GROUP_SET_ADMIN_REQ,
  CommandId.GROUP_RENAME_REQ,
  CommandId.GROUP_MUTE_ALL_REQ,
  CommandId.GROUP_MUTE_MEMBER_REQ,
  CommandId.GROUP_TRANSFER_OWNER_REQ,
  CommandId.GROUP_ROLES_REQ,
  CommandId.GROUP_READ_RECEIPTS_REQ,
  CommandId.SYNC_CONV_REQ,
  CommandId.SYNC_REQ,
  CommandId.RECALL_REQ,
  // Issue 12 (0x0820-0x083F); typing and presence subscriptions have routes of their own below.
  CommandId.PRESENCE_QUERY_REQ,
  CommandId.FRIEND_REQUEST_REQ,
  CommandId.FRIEND_RESPOND_REQ,
  CommandId.FRIEND_REMOVE_REQ,
  CommandId.FRIEND_BLOCK_REQ,
  CommandId.FRIEND_REQUEST_LIST_REQ,
  CommandId.PROFILE_UPDATE_REQ,
  CommandId.SCHEDULE_CREATE_REQ,
  CommandId.SCHEDULE_LIST_REQ,
  CommandId.SCHEDULE_CANCEL_REQ,
  CommandId.SCHEDULE_UPDATE_REQ,
]);

type Route = (conn: Connection, seq: number, body: Buffer, now: number, cmd: number) => void;

/**
 * Client → cluster: a command table from what a logged-in client sends to what the gate does with
 * it — answered here (heartbeat, logout), checked and handed to logic (sends, read acks, queries,
 * group changes, calls), or batched to the job (delivery receipts). Checks that need no state
 * (decoding, id ranges, size limits, rate limits, budgets) refuse at the gate, so logic only sees
 * requests worth its time; a publish that fails tells the client, which retries.
 */
export class UpstreamRouter {
  /** Set when the gate drains: new sends are refused (IM_ERR_BUSY), sends in flight still answered. */
  draining = false;
  private readonly commands: Map<number, Route>;

  constructor(
    private readonly ctx: GateContext,
    private readonly upstream: UpstreamPublisher,
    private readonly receipts: BatchPublisher<mqim.v1.IDeliveryReceipt>,
    private readonly userSends: UserSendLimiter,
  ) {
    const toLogic: Route = (conn, seq, body, now, cmd) => this.toLogic(conn, cmd, seq, body, now);
    this.commands = new Map<number, Route>([
      [CommandId.LOGIN_HEARTBEAT, (conn) => this.heartbeat(conn)],
      [CommandId.LOGIN_AUTH_TOKEN_REQ, toLogic],
      [CommandId.LOGIN_AUTH_REQ, toLogic],
      [CommandId.LOGIN_AUTH_LOGOUT_REQ, (conn, seq) => this.logout(conn, seq)],
      [CommandId.MSG_DATA, (conn, seq, body, now) => this.onSend(conn, seq, body, now)],
      [CommandId.MSG_DATA_ACK, (conn, seq, body, now) => this.onReceipt(conn, seq, body, now)],
      [CommandId.MSG_READ_ACK, (conn, seq, body, now) => this.onReadAck(conn, seq, body, now)],
      [CommandId.CLIENT_CAPABILITIES_REQ, (conn, seq, body) => this.capabilities(conn, seq, body)],
      ...[...TO_LOGIC].map((cmd): [number, Route] => [cmd, toLogic]),
      [CommandId.TYPING, (conn, seq, body, now) => this.onTyping(conn, seq, body, now)],
      [
        CommandId.PRESENCE_SUBSCRIBE_REQ,
        (conn, seq, body, now) => this.onPresenceSubscribe(conn, seq, body, now),
      ],
    ]);
  }

  /** One frame from a client (the listeners' entry). */
  frame(conn: Connection, cmd: number, seq: number, body: Buffer): void {
    const now = Date.now();
    this.ctx.deps.metrics.framesIn.inc({ cmd: commandName(cmd) });
    conn.lastSeenAt = now;
    if (!conn.takeToken(now)) {
      this.ctx.writer.error(conn, 'IM_ERR_RATE_LIMITED', 'too many frames', cmd, seq);
      this.ctx.deps.metrics.errors.inc({ code: 'IM_ERR_RATE_LIMITED' });
      conn.close('flood: per-connection rate limit exceeded', this.ctx.log, 'warn');
      return;
    }
    if (!conn.loggedIn) {
      // 0x0803 may come before the login (the SDK pipelines it), so no delivery after the login
      // answer is judged as if the client were CoffeeChat's (docs/adr/0012).
      if (cmd === CommandId.CLIENT_CAPABILITIES_REQ) {
        this.capabilities(conn, seq, body);
        return;
      }
      if (!isAllowedBeforeLogin(cmd)) {
        this.ctx.deps.metrics.errors.inc({ code: 'IM_ERR_NOT_LOGGED_IN' });
        this.ctx.writer.error(conn, 'IM_ERR_NOT_LOGGED_IN', `log in before ${commandName(cmd)}`, cmd, seq);
        conn.close(`command ${commandName(cmd)} before login`, this.ctx.log, 'warn');
        return;
      }
      this.toLogic(conn, cmd, seq, body, now);
      return;
    }
    const route = this.commands.get(cmd);
    if (route) {
      route(conn, seq, body, now, cmd);
      return;
    }
    // Unknown after login: ignore and count (spec §2); the connection stays usable.
    this.ctx.deps.metrics.errors.inc({ code: 'IM_ERR_UNKNOWN_COMMAND' });
    this.ctx.log.debug({ conn: conn.id, cmd }, 'unknown command ignored');
  }

  private heartbeat(conn: Connection): void {
    this.ctx.writer.write(conn, CommandId.LOGIN_HEARTBEAT, conn.nextServerSeq(), EMPTY);
  }

  /** 0x0803: the connection's client says what it understands (docs/adr/0012); answered 0x0804. */
  private capabilities(conn: Connection, seq: number, body: Buffer): void {
    let req: CIM.Compat.MqimClientCapabilitiesReq;
    try {
      req = CIM.Compat.MqimClientCapabilitiesReq.decode(body);
    } catch {
      this.badBody(conn, CommandId.CLIENT_CAPABILITIES_REQ, seq);
      return;
    }
    conn.capabilities = req.flags & SUPPORTED_CAPABILITIES;
    const rsp = CIM.Compat.MqimClientCapabilitiesRsp.encode({ flags: conn.capabilities }).finish();
    this.ctx.writer.write(conn, CommandId.CLIENT_CAPABILITIES_RSP, seq, rsp);
  }

  private logout(conn: Connection, seq: number): void {
    this.ctx.writer.write(
      conn,
      CommandId.LOGIN_AUTH_LOGOUT_RSP,
      seq,
      CIM.Login.CIMLogoutRsp.encode({ resultCode: 200 }).finish(),
    );
    conn.close('logout', this.ctx.log);
  }

  /**
   * A request logic answers as it is: a login (before login, or again on a logged-in connection,
   * answered as a fresh login would be) keyed by the connection; a query within its budget, a
   * group change or a call keyed by `upstreamOrderKey`.
   */
  private toLogic(conn: Connection, cmd: number, seq: number, body: Buffer, now: number): void {
    if (cmd === CommandId.LOGIN_AUTH_TOKEN_REQ || cmd === CommandId.LOGIN_AUTH_REQ || !conn.loggedIn) {
      this.publishUpstream(conn, cmd, seq, body, `l${this.ctx.options.gateId}_${conn.id}`, now);
      return;
    }
    if (QUERIES.has(cmd)) {
      const refused = this.ctx.queries.admit(conn, now);
      if (refused !== undefined) {
        this.ctx.deps.metrics.errors.inc({ code: 'IM_ERR_QUERY_BUDGET' });
        this.ctx.writer.error(conn, 'IM_ERR_QUERY_BUDGET', QUERY_REFUSALS[refused], cmd, seq);
        return;
      }
    }
    const orderKey = upstreamOrderKey(cmd, conn.userId, body);
    if (orderKey === undefined) this.badBody(conn, cmd, seq);
    else this.publishUpstream(conn, cmd, seq, body, orderKey, now);
  }

  /** 0x0820: within the connection's typing allowance, to logic; beyond it, refused and dropped. */
  private onTyping(conn: Connection, seq: number, body: Buffer, now: number): void {
    if (!conn.takeTypingToken(now)) {
      this.ctx.deps.metrics.errors.inc({ code: 'IM_ERR_TYPING_RATE_LIMITED' });
      this.ctx.writer.error(
        conn,
        'IM_ERR_TYPING_RATE_LIMITED',
        'too many typing notices',
        CommandId.TYPING,
        seq,
      );
      return;
    }
    this.toLogic(conn, CommandId.TYPING, seq, body, now);
  }

  /**
   * 0x0824: the mark is the gate's (notices are filtered per connection in the applier, so one
   * device may follow presence while another does not); logic answers with the current state.
   */
  private onPresenceSubscribe(conn: Connection, seq: number, body: Buffer, now: number): void {
    try {
      conn.presenceSubscribed = CIM.Social.MqimPresenceSubscribeReq.decode(body).subscribe;
    } catch {
      this.badBody(conn, CommandId.PRESENCE_SUBSCRIBE_REQ, seq);
      return;
    }
    this.toLogic(conn, CommandId.PRESENCE_SUBSCRIBE_REQ, seq, body, now);
  }

  private onSend(conn: Connection, seq: number, body: Buffer, now: number): void {
    let msg: CIM.Message.CIMMsgData;
    try {
      msg = CIM.Message.CIMMsgData.decode(body);
    } catch {
      this.badBody(conn, CommandId.MSG_DATA, seq);
      return;
    }
    let toSessionId: number;
    try {
      toSessionId = toId(msg.toSessionId);
    } catch {
      this.rejectSend(conn, seq, msg, 'IM_ERR_ID_OUT_OF_RANGE', 'to_session_id out of range');
      return;
    }
    if (msg.msgData.length > this.ctx.options.maxMsgDataBytes) {
      this.rejectSend(
        conn,
        seq,
        msg,
        'IM_ERR_INVALID_ARGUMENT',
        `msg_data is ${msg.msgData.length} bytes; the limit is ${this.ctx.options.maxMsgDataBytes}`,
      );
      return;
    }
    if (this.draining) {
      // After the SERVER_SHUTDOWN notice nothing new is taken: the grace is for sends in flight.
      this.rejectSend(conn, seq, msg, 'IM_ERR_BUSY', 'server shutting down; resend on another gate');
      return;
    }
    const allowed = this.userSends.take(conn.userId, now);
    if (allowed === true) this.admitSend(conn, seq, body, msg, toSessionId, now);
    else if (allowed === false) this.userRateLimited(conn, seq, msg);
    else
      void allowed
        .then((ok) => {
          // The user's allowance was being leased (once per chunk of sends); the connection may be
          // gone, and the gate may have begun to drain meanwhile.
          if (conn.closed) return;
          if (ok && this.draining)
            this.rejectSend(conn, seq, msg, 'IM_ERR_BUSY', 'server shutting down; resend on another gate');
          else if (ok) this.admitSend(conn, seq, body, msg, toSessionId, Date.now());
          else this.userRateLimited(conn, seq, msg);
        })
        .catch((err: unknown) => {
          // Off the frame handler's stack: a throw here must cost this connection, not the process.
          this.ctx.log.error(
            { err: String(err), conn: conn.id },
            'deferred send failed; closing the connection',
          );
          conn.close('internal error on a deferred send', this.ctx.log);
        });
  }

  private userRateLimited(conn: Connection, seq: number, msg: CIM.Message.CIMMsgData): void {
    this.rejectSend(
      conn,
      seq,
      msg,
      'IM_ERR_USER_RATE_LIMITED',
      'too many messages from this user; slow down',
    );
  }

  private admitSend(
    conn: Connection,
    seq: number,
    body: Buffer,
    msg: CIM.Message.CIMMsgData,
    toSessionId: number,
    now: number,
  ): void {
    if (!this.ctx.admission.admit(conn, seq, now)) {
      this.rejectSend(conn, seq, msg, 'IM_ERR_BUSY', 'server busy, retry later');
      return;
    }
    const key = conversationKey(msg.sessionType, conn.userId, toSessionId);
    this.publishUpstream(conn, CommandId.MSG_DATA, seq, body, key, now, msg);
  }

  private onReceipt(conn: Connection, seq: number, body: Buffer, now: number): void {
    let ack: CIM.Message.CIMMsgDataAck;
    try {
      ack = CIM.Message.CIMMsgDataAck.decode(body);
    } catch {
      this.badBody(conn, CommandId.MSG_DATA_ACK, seq);
      return;
    }
    let sessionId: number;
    let serverMsgId: number;
    try {
      sessionId = toId(ack.toSessionId);
      serverMsgId = toId(ack.serverMsgId);
    } catch {
      this.badBody(conn, CommandId.MSG_DATA_ACK, seq);
      return;
    }
    const receipt: mqim.v1.IDeliveryReceipt = {
      userId: conn.userId,
      sessionType: ack.sessionType,
      sessionId,
      serverMsgId,
      clientMsgId: ack.clientMsgId,
      receivedAtMs: now,
    };
    const topic = this.ctx.names.receipt;
    this.settle(
      conn,
      topic,
      this.receipts.add({ topic, tag: RECEIPT_BATCH_TAG }, [receipt]),
      CommandId.MSG_DATA_ACK,
      seq,
    );
  }

  private onReadAck(conn: Connection, seq: number, body: Buffer, now: number): void {
    let read: CIM.Message.CIMMsgDataReadAck;
    try {
      read = CIM.Message.CIMMsgDataReadAck.decode(body);
      toId(read.sessionId);
    } catch {
      this.badBody(conn, CommandId.MSG_READ_ACK, seq);
      return;
    }
    this.publishUpstream(
      conn,
      CommandId.MSG_READ_ACK,
      seq,
      body,
      conversationKey(read.sessionType, conn.userId, toId(read.sessionId)),
      now,
    );
  }

  private publishUpstream(
    conn: Connection,
    cmd: number,
    seq: number,
    body: Buffer,
    orderKey: string,
    now: number,
    send?: CIM.Message.CIMMsgData,
  ): void {
    const isLogin = cmd === CommandId.LOGIN_AUTH_TOKEN_REQ || cmd === CommandId.LOGIN_AUTH_REQ;
    const published = this.upstream.publish({
      clientAddress: isLogin ? addressOf(conn.remote) : '',
      gateId: this.ctx.options.gateId,
      connId: conn.id,
      userId: conn.userId,
      clientType: conn.clientType,
      cmd,
      seq,
      body,
      receivedAtMs: now,
      orderKey,
    });
    published.then(
      () => undefined,
      (err: Error) => {
        if (send) this.ctx.admission.answered(conn, seq);
        if (QUERIES.has(cmd)) this.ctx.queries.answered(conn, 0, Date.now());
        if (err instanceof PublisherBusyError) {
          // Refused before it reached the cluster: nothing was stored, the client may retry.
          // rejectSend counts its refusal; a refused request of another kind is counted here.
          if (send) this.rejectSend(conn, seq, send, 'IM_ERR_BUSY', 'server busy, retry later');
          else {
            this.ctx.deps.metrics.errors.inc({ code: 'IM_ERR_BUSY' });
            this.ctx.writer.error(conn, 'IM_ERR_BUSY', 'server busy, retry later', cmd, seq);
          }
          return;
        }
        this.publishFailed(conn, this.ctx.names.upstream, err, cmd, seq);
      },
    );
  }

  /** A publish that fails tells the client, which retries (sends are idempotent by client_msg_id). */
  private settle(
    conn: Connection,
    topic: string,
    published: Promise<unknown>,
    cmd: number,
    seq: number,
  ): void {
    published.then(
      () => undefined,
      (err: Error) => this.publishFailed(conn, topic, err, cmd, seq),
    );
  }

  private publishFailed(conn: Connection, topic: string, err: Error, cmd: number, seq: number): void {
    // The request is lost before reaching the cluster; tell the client so it retries
    // (sends are idempotent by client_msg_id).
    this.ctx.log.error({ err: err.message, topic, conn: conn.id }, 'publish failed');
    this.ctx.deps.metrics.errors.inc({ code: 'IM_ERR_BUS_UNAVAILABLE' });
    this.ctx.writer.error(conn, 'IM_ERR_UNAVAILABLE', 'service temporarily unavailable, retry', cmd, seq);
  }

  private badBody(conn: Connection, cmd: number, seq: number): void {
    this.ctx.deps.metrics.errors.inc({ code: 'IM_ERR_BAD_BODY' });
    this.ctx.writer.error(conn, 'IM_ERR_BAD_BODY', `invalid ${commandName(cmd)} body`, cmd, seq);
  }

  /** A refused send gets an ack whose res_code is not OK, plus an error notice saying why. */
  private rejectSend(
    conn: Connection,
    seq: number,
    msg: CIM.Message.CIMMsgData,
    name: ImErrorCode,
    text: string,
  ): void {
    this.ctx.deps.metrics.errors.inc({ code: name });
    const ack = encodeRefusedSendAck(conn.userId, msg);
    this.ctx.writer.write(conn, CommandId.MSG_DATA_ACK, seq, ack);
    this.ctx.writer.error(conn, name, text, CommandId.MSG_DATA, seq);
  }
}

/** The IP of a `host:port` remote (IPv6 hosts contain colons; the port is after the last one). */
function addressOf(remote: string): string {
  const at = remote.lastIndexOf(':');
  return (at > 0 ? remote.slice(0, at) : remote).replace(/^::ffff:/, '');
}

const QUERY_REFUSALS = {
  'in-flight': 'too many queries in flight on this connection; wait for their answers',
  bytes: 'query reply bytes over this connection’s budget; retry in a moment',
  unread: 'earlier replies not read yet; read them before asking again',
} as const;
