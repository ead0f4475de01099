import { randomBytes } from 'node:crypto';
import {
  BatchPublisher,
  PublisherBusyError,
  publishMetrics,
  type MessageBus,
  type Subscription,
} from '@mqim/bus';
import type { RouteTable, Route, TokenBuckets } from '@mqim/cache';
import type { Logger } from '@mqim/config';
import type { MqimMetrics } from '@mqim/metrics';
import {
  CIM,
  CommandId,
  DEFAULT_LANES,
  ImErrorNumber,
  KickOutReason,
  MqNames,
  RECEIPT_BATCH_TAG,
  commandName,
  conversationKey,
  encodeFrame,
  isAllowedBeforeLogin,
  longToNumber,
  mqim,
  toErrorNotify,
  toId,
  type ImErrorCode,
} from '@mqim/protocol';
import { Connection, type FrameSink, type Transport } from './connection';
import { ConnectionTable } from './connection.table';
import type { FrameHandler } from './frame-handler';
import { QUERIES, QueryBudget, answersQuery } from './query.budget';
import { SendAdmission } from './send.admission';
import { UserSendLimiter } from './user-send.limiter';
import { TcpListener } from './tcp.listener';
import { upstreamOrderKey } from './upstream.order-key';
import { UpstreamPublisher } from './upstream.publisher';
import { WsListener } from './ws.listener';

export interface GateOptions {
  gateId: string;
  topicPrefix: string;
  host: string;
  tcpPort: number;
  wsPort: number;
  /** @default 15000 */
  loginTimeoutMs: number;
  /** @default 60000 */
  heartbeatTimeoutMs: number;
  maxFrameBytes: number;
  maxMsgDataBytes: number;
  rateLimitPerSec: number;
  rateLimitBurst: number;
  routeTtlMs: number;
  /** A connection whose unsent output passes this is too slow to keep: closed. @default 4 MiB */
  maxPendingBytes?: number;
  /** Lanes of `im-upstream` (the same on every gate). @default DEFAULT_LANES (4, as MQIM_LANES) */
  lanes?: number;
  /** Upstream publishes in flight across all lanes. @default 2 */
  upstreamInFlight?: number;
  /** Batched publishes (upstream, receipts) at most once per slot or target per this many ms. @default 4 */
  mqPaceMs?: number;
  /** Requests waiting for the broker before new ones are refused with IM_ERR_BUSY. @default 4096 */
  upstreamMaxPending?: number;
  /** Sends handed to logic and not yet answered before new ones are refused with IM_ERR_BUSY. @default 8192 */
  maxOutstandingSends?: number;
  /** Sends per second one user may make across all of its connections on every gate; 0: no limit. @default 0 */
  userSendRate?: number;
  /** Sends one user may make at once above that rate. @default 100 */
  userSendBurst?: number;
  /** Largest frame accepted before login (a login frame is a few hundred bytes). @default 4096 */
  preLoginMaxFrameBytes?: number;
  /** A closed TCP connection whose peer does not take its unsent output is destroyed after this. @default 2000 */
  closeGraceMs?: number;
  /** A WebSocket connection must complete its HTTP upgrade within this. @default 5000 */
  wsHandshakeTimeoutMs?: number;
  /** Queries (history, lists) per connection in flight to logic. @default 4 */
  queryMaxInFlight?: number;
  /** Query reply bytes per second per connection; twice this is its burst. @default 1 MiB */
  queryBytesPerSec?: number;
  /** Unsent output past which a connection's new queries are refused. @default 1 MiB */
  queryMaxUnreadBytes?: number;
}

export interface GateDeps {
  bus: MessageBus;
  routes: RouteTable;
  /** The shared buckets behind the per-user send limit (cache.rates: one limit across gates). */
  rates: TokenBuckets;
  metrics: MqimMetrics;
  logger: Logger;
}

/**
 * Delivery receipts read within this window travel to the job in one MQ message. They feed the
 * once-a-second ack-time flush and the seconds-long push check, so a few ms cost nothing.
 */
const RECEIPT_WINDOW_MS = 5;

/** A send whose answer has not come back in this long no longer counts against admission. */
const SEND_ANSWER_EXPIRY_MS = 30_000;

/** Commands the gate hands to logic as they are (after login). */
const TO_LOGIC = new Set<number>([
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
  CommandId.VOIP_BYE_REQ,
]);

/**
 * The connection tier. Holds sockets and nothing of value: frames that need state go to logic
 * over the bus; replies and deliveries come back on this gate's own topic. It never opens the
 * database, so adding or killing a gate is cheap and safe.
 */
export class Gate implements FrameHandler {
  readonly names: MqNames;
  private readonly table = new ConnectionTable();
  private readonly bootId = randomBytes(4).toString('hex');
  private connCounter = 0;
  private readonly tcp: TcpListener;
  private readonly ws: WsListener;
  private subscription?: Subscription;
  private sweepTimer?: NodeJS.Timeout;
  private lastRouteRefresh = 0;
  private readonly log: Logger;
  private readonly maxPendingBytes: number;
  private readonly receipts: BatchPublisher<mqim.v1.IDeliveryReceipt>;
  private readonly upstream: UpstreamPublisher;
  private readonly admission: SendAdmission;
  /** Set by `drain()`: new sends are refused (IM_ERR_BUSY), sends in flight are still answered. */
  private draining = false;
  private readonly queries: QueryBudget;
  private readonly userSends: UserSendLimiter;
  ports = { tcp: 0, ws: 0 };

  constructor(
    private readonly options: GateOptions,
    private readonly deps: GateDeps,
  ) {
    this.names = new MqNames(options.topicPrefix);
    this.log = deps.logger.child({ role: 'gate', gate: options.gateId });
    const limits = {
      maxFrameBytes: options.maxFrameBytes,
      preLoginMaxFrameBytes: Math.min(options.maxFrameBytes, options.preLoginMaxFrameBytes ?? 4096),
      closeGraceMs: options.closeGraceMs ?? 2000,
      handshakeTimeoutMs: options.wsHandshakeTimeoutMs ?? 5000,
    };
    this.tcp = new TcpListener(this, limits);
    this.ws = new WsListener(this, limits);
    this.maxPendingBytes = options.maxPendingBytes ?? 4 * 1024 * 1024;
    this.receipts = new BatchPublisher(deps.bus, {
      encode: (receipts) => mqim.v1.DeliveryReceiptBatch.encode({ receipts: [...receipts] }).finish(),
      sizeOf: (r) => 64 + (r.clientMsgId?.length ?? 0),
      windowMs: RECEIPT_WINDOW_MS,
      minIntervalMs: options.mqPaceMs ?? 4,
      onPublished: publishMetrics(deps.metrics),
    });
    this.upstream = new UpstreamPublisher(deps.bus, this.names, deps.metrics, {
      lanes: options.lanes ?? DEFAULT_LANES,
      maxInFlight: options.upstreamInFlight ?? 2,
      minIntervalMs: options.mqPaceMs ?? 4,
      maxPending: options.upstreamMaxPending ?? 4096,
    });
    this.admission = new SendAdmission(options.maxOutstandingSends ?? 8192, SEND_ANSWER_EXPIRY_MS);
    let lastLeaseWarning = 0;
    this.userSends = new UserSendLimiter(
      options.userSendRate ?? 0,
      options.userSendBurst ?? 100,
      deps.rates,
      (err) => {
        // Sends are admitted meanwhile; one line per 10 s is enough to see the cache is away.
        if (Date.now() - lastLeaseWarning < 10_000) return;
        lastLeaseWarning = Date.now();
        this.log.warn({ err: err.message }, 'user send limit: lease failed; sends admitted without it');
      },
    );
    const queryRate = options.queryBytesPerSec ?? 1024 * 1024;
    this.queries = new QueryBudget({
      maxInFlight: options.queryMaxInFlight ?? 4,
      bytesPerSec: queryRate,
      burstBytes: 2 * queryRate,
      maxUnreadBytes: options.queryMaxUnreadBytes ?? 1024 * 1024,
      expireMs: SEND_ANSWER_EXPIRY_MS,
    });
  }

  get connectionCount(): number {
    return this.table.size;
  }

  /** Distinct users logged in on this gate (several devices count once). */
  get userCount(): number {
    return this.table.userCount;
  }

  /**
   * Re-registers every logged-in connection's route now instead of at the next periodic refresh:
   * for when they may have been evicted (this gate's heartbeat had lapsed, so sweepers took it
   * for dead).
   */
  refreshRoutes(): void {
    this.lastRouteRefresh = 0;
    this.sweep();
  }

  async start(): Promise<void> {
    const { bus } = this.deps;
    const { gateId } = this.options;
    // A new gate provisions its own topic: scaling out needs no manual step.
    await bus.ensureTopics([this.names.gateTopic(gateId)]);
    await bus.ensureGroups([this.names.gateGroupSpec(gateId)]);
    // One message group (the gate id), so every batch of messages comes in publish order; taking
    // many per receive saves a receive and an ack round trip per GateBatch.
    this.subscription = await bus.subscribeBatch(
      { topic: this.names.gate(gateId), group: this.names.gateGroup(gateId), concurrency: 32, maxBatch: 32 },
      async (messages) => {
        for (const msg of messages) await this.onGateBatch(msg.body);
      },
    );
    this.ports.tcp = await this.tcp.listen(this.options.host, this.options.tcpPort);
    this.ports.ws = await this.ws.listen(this.options.host, this.options.wsPort);
    this.sweepTimer = setInterval(() => this.sweep(), 1000);
    this.sweepTimer.unref();
    this.log.info({ tcp: this.ports.tcp, ws: this.ports.ws }, 'gate listening');
  }

  /**
   * A live drain, for SIGTERM: refuses new connections, tells every client to go elsewhere (0x0801
   * with SERVER_SHUTDOWN; the SDK reconnects to another gate and syncs), keeps answering for up to
   * `graceMs` while sends it handed to logic are still unanswered and upstream publishes are still
   * buffered, then closes the connections (withdrawing their routes) and stops. A send still
   * unanswered after the grace is safe: the client resends it with the same clientMsgId.
   * @returns how the drain went, for the shutdown log line
   */
  async drain(graceMs: number): Promise<{ connections: number; unanswered: number; ms: number }> {
    const started = Date.now();
    const deadline = started + graceMs;
    this.draining = true;
    this.tcp.stopAccepting();
    this.ws.stopAccepting();
    const notice = CIM.Ext.MqimKickOutNotify.encode({
      reason: KickOutReason.SERVER_SHUTDOWN,
      text: 'server shutting down; reconnect to another gate',
    }).finish();
    const connections = [...this.table.all()];
    for (const conn of connections) this.write(conn, CommandId.KICK_OUT_NOTIFY, conn.nextServerSeq(), notice);
    const flushed = Promise.all([this.receipts.flushAll(), this.upstream.flushAll()]);
    await Promise.race([flushed, sleep(graceMs)]);
    while (this.admission.outstanding > 0 && Date.now() < deadline) await sleep(20);
    const unanswered = this.admission.outstanding;
    for (const conn of this.table.all()) conn.close('drain: server shutting down', this.log);
    // end() flushes what was written (the notice, late acks) before the socket goes.
    while (this.table.size > 0 && Date.now() < deadline + 1000) await sleep(20);
    await this.stop(Math.max(0, deadline - Date.now()));
    return { connections: connections.length, unanswered, ms: Date.now() - started };
  }

  /** @param flushWithinMs how long buffered publishes may still take (a dead broker must not hold a stop) */
  async stop(flushWithinMs = Infinity): Promise<void> {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    await this.subscription?.close();
    const routes: Route[] = [];
    for (const conn of this.table.all()) if (conn.loggedIn) routes.push(this.routeOf(conn));
    await Promise.all([this.tcp.close(), this.ws.close()]);
    const flushed = Promise.all([this.receipts.flushAll(), this.upstream.flushAll()]);
    await (Number.isFinite(flushWithinMs) ? Promise.race([flushed, sleep(flushWithinMs)]) : flushed);
    // A clean stop withdraws its routes at once instead of leaving them to expire.
    await Promise.allSettled(routes.map((r) => this.deps.routes.unregister(r.userId, r.gateId, r.connId)));
  }

  // ---- FrameHandler ----

  open(transport: Transport, remote: string, sink: FrameSink): Connection {
    const id = `${this.bootId}-${(++this.connCounter).toString(36)}`;
    const conn = new Connection(
      id,
      transport,
      remote,
      sink,
      { perSecond: this.options.rateLimitPerSec, burst: this.options.rateLimitBurst },
      Date.now(),
    );
    this.table.add(conn);
    this.deps.metrics.connections.inc({ transport, state: 'open' });
    return conn;
  }

  closed(conn: Connection): void {
    if (!conn.closed) conn.closed = true;
    this.table.remove(conn);
    this.admission.released(conn);
    this.deps.metrics.connections.dec({ transport: conn.transport, state: 'open' });
    if (conn.loggedIn) {
      this.deps.metrics.connections.dec({ transport: conn.transport, state: 'logged_in' });
      this.deps.routes
        .unregister(conn.userId, this.options.gateId, conn.id)
        .catch((err: Error) =>
          this.log.warn({ err: err.message, conn: conn.id }, 'route unregister failed; it will expire'),
        );
    }
  }

  torndown(conn: Connection, unsentBytes: number): void {
    this.deps.metrics.errors.inc({ code: 'IM_ERR_SLOW_CONSUMER_DESTROYED' });
    this.log.warn(
      { conn: conn.id, user: conn.userId || undefined, remote: conn.remote, unsentBytes },
      'connection destroyed: peer did not take its output within the close grace',
    );
  }

  protocolError(conn: Connection, reason: string, err?: unknown): void {
    this.deps.metrics.errors.inc({ code: 'IM_ERR_PROTOCOL' });
    // Said before the close (docs/protocol.md, 0x0802): a FrameError's own code and text; anything
    // else (a bug of ours) as IM_ERR_INTERNAL without its message.
    if (err !== undefined) {
      const why = toErrorNotify(err);
      this.sendError(conn, why.errorName as ImErrorCode, why.text, 0, 0);
    }
    conn.close(reason, this.log, 'warn');
  }

  frame(conn: Connection, cmd: number, seq: number, body: Buffer): void {
    const now = Date.now();
    this.deps.metrics.framesIn.inc({ cmd: commandName(cmd) });
    conn.lastSeenAt = now;
    if (!conn.takeToken(now)) {
      this.sendError(conn, 'IM_ERR_RATE_LIMITED', 'too many frames', cmd, seq);
      this.deps.metrics.errors.inc({ code: 'IM_ERR_RATE_LIMITED' });
      conn.close('flood: per-connection rate limit exceeded', this.log, 'warn');
      return;
    }
    if (!conn.loggedIn) {
      if (!isAllowedBeforeLogin(cmd)) {
        this.deps.metrics.errors.inc({ code: 'IM_ERR_NOT_LOGGED_IN' });
        this.sendError(conn, 'IM_ERR_NOT_LOGGED_IN', `log in before ${commandName(cmd)}`, cmd, seq);
        conn.close(`command ${commandName(cmd)} before login`, this.log, 'warn');
        return;
      }
      this.publishUpstream(conn, cmd, seq, body, `l${this.options.gateId}_${conn.id}`, now);
      return;
    }
    switch (cmd) {
      case CommandId.LOGIN_HEARTBEAT:
        this.write(conn, CommandId.LOGIN_HEARTBEAT, conn.nextServerSeq(), EMPTY);
        return;
      case CommandId.LOGIN_AUTH_TOKEN_REQ:
      case CommandId.LOGIN_AUTH_REQ:
        // Already logged in on this connection: answer as a fresh login would, via logic.
        this.publishUpstream(conn, cmd, seq, body, `l${this.options.gateId}_${conn.id}`, now);
        return;
      case CommandId.LOGIN_AUTH_LOGOUT_REQ:
        this.write(
          conn,
          CommandId.LOGIN_AUTH_LOGOUT_RSP,
          seq,
          CIM.Login.CIMLogoutRsp.encode({ resultCode: 200 }).finish(),
        );
        conn.close('logout', this.log);
        return;
      case CommandId.MSG_DATA:
        this.onSend(conn, seq, body, now);
        return;
      case CommandId.MSG_DATA_ACK:
        this.onReceipt(conn, seq, body, now);
        return;
      case CommandId.MSG_READ_ACK:
        this.onReadAck(conn, seq, body, now);
        return;
      default:
        if (TO_LOGIC.has(cmd)) {
          if (QUERIES.has(cmd)) {
            const refused = this.queries.admit(conn, now);
            if (refused !== undefined) {
              this.deps.metrics.errors.inc({ code: 'IM_ERR_QUERY_BUDGET' });
              this.sendError(conn, 'IM_ERR_QUERY_BUDGET', QUERY_REFUSALS[refused], cmd, seq);
              return;
            }
          }
          const orderKey = upstreamOrderKey(cmd, conn.userId, body);
          if (orderKey === undefined) this.badBody(conn, cmd, seq);
          else this.publishUpstream(conn, cmd, seq, body, orderKey, now);
          return;
        }
        // Unknown after login: ignore and count (spec §2); the connection stays usable.
        this.deps.metrics.errors.inc({ code: 'IM_ERR_UNKNOWN_COMMAND' });
        this.log.debug({ conn: conn.id, cmd }, 'unknown command ignored');
    }
  }

  // ---- client -> cluster ----

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
    if (msg.msgData.length > this.options.maxMsgDataBytes) {
      this.rejectSend(
        conn,
        seq,
        msg,
        'IM_ERR_INVALID_ARGUMENT',
        `msg_data is ${msg.msgData.length} bytes; the limit is ${this.options.maxMsgDataBytes}`,
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
          this.log.error({ err: String(err), conn: conn.id }, 'deferred send failed; closing the connection');
          conn.close('internal error on a deferred send', this.log);
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
    if (!this.admission.admit(conn, now)) {
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
    const topic = this.names.receipt;
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
    if (isLogin) conn.loginPending = true;
    const published = this.upstream.publish({
      clientAddress: isLogin ? addressOf(conn.remote) : '',
      gateId: this.options.gateId,
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
        if (send) this.admission.answered(conn);
        if (QUERIES.has(cmd)) this.queries.answered(conn, 0, Date.now());
        if (err instanceof PublisherBusyError) {
          // Refused before it reached the cluster: nothing was stored, the client may retry.
          // rejectSend counts its refusal; a refused request of another kind is counted here.
          if (send) this.rejectSend(conn, seq, send, 'IM_ERR_BUSY', 'server busy, retry later');
          else {
            this.deps.metrics.errors.inc({ code: 'IM_ERR_BUSY' });
            this.sendError(conn, 'IM_ERR_BUSY', 'server busy, retry later', cmd, seq);
          }
          return;
        }
        this.publishFailed(conn, this.names.upstream, err, cmd, seq);
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
    this.log.error({ err: err.message, topic, conn: conn.id }, 'publish failed');
    this.deps.metrics.errors.inc({ code: 'IM_ERR_BUS_UNAVAILABLE' });
    this.sendError(conn, 'IM_ERR_UNAVAILABLE', 'service temporarily unavailable, retry', cmd, seq);
  }

  // ---- cluster -> client ----

  private async onGateBatch(body: Uint8Array): Promise<void> {
    let batch: mqim.v1.GateBatch;
    try {
      batch = mqim.v1.GateBatch.decode(body);
    } catch (err) {
      // Retrying cannot fix it, and it would hold up the gate's only queue.
      this.log.error({ err: (err as Error).message }, 'undecodable gate batch dropped');
      return;
    }
    for (const command of batch.commands) {
      try {
        // Only a login binding waits (route registration); frames are written synchronously, so
        // most commands cost no microtask turn.
        const pending = this.apply(command);
        if (pending !== undefined) await pending;
      } catch (err) {
        // One bad command must not block the gate's queue (it is FIFO): log and go on.
        this.log.error({ err: (err as Error).message, cmd: command.cmd }, 'gate command failed');
      }
    }
  }

  /** Returns a promise only for the one command that waits (a login binding). */
  private apply(c: mqim.v1.IGateCommand): Promise<void> | undefined {
    const action = c.action ?? mqim.v1.GateAction.GATE_ACTION_FRAME;
    const body = c.body ?? EMPTY;
    const cmd = c.cmd ?? 0;
    if (action === mqim.v1.GateAction.GATE_ACTION_LOGIN_OK) return this.applyLogin(c, cmd, body);
    // Collected before writing: a kick closes connections, which leave the table's sets.
    const targets: Connection[] = [];
    const users = this.targets(c, targets);
    if (cmd === CommandId.MSG_DATA_ACK && c.connId && targets.length === 1)
      this.admission.answered(targets[0]!);
    if (c.connId && targets.length === 1 && answersQuery(cmd, body))
      this.queries.answered(targets[0]!, body.length, Date.now());
    for (const conn of targets) {
      if (cmd) this.write(conn, cmd, c.seq || conn.nextServerSeq(), body);
      if (action === mqim.v1.GateAction.GATE_ACTION_KICK) conn.close(`kicked: ${c.reason ?? ''}`, this.log);
    }
    if (cmd === CommandId.MSG_DATA && c.originAtMs && users)
      this.observeDelivery(longToNumber(c.originAtMs), users);
  }

  /** End-to-end delivery latency, one observation per user reached. */
  private observeDelivery(originAtMs: number, users: number): void {
    const seconds = (Date.now() - originAtMs) / 1000;
    for (let i = 0; i < users; i++) this.deps.metrics.deliverySeconds.observe(seconds);
  }

  private async applyLogin(c: mqim.v1.IGateCommand, cmd: number, body: Uint8Array): Promise<void> {
    const conn = this.table.get(c.connId ?? '');
    if (!conn || conn.closed) return;
    const userId = toId(c.userId ?? 0);
    conn.clientType = c.clientType ?? 0;
    conn.tokenId = c.tokenId ?? '';
    conn.loginPending = false;
    this.table.bindUser(conn, userId);
    // Register before answering: a message sent to this user right after it sees the login
    // response must find the route.
    await this.deps.routes.register(this.routeOf(conn), this.options.routeTtlMs);
    this.write(conn, cmd, c.seq ?? 0, body);
    this.deps.metrics.connections.inc({ transport: conn.transport, state: 'logged_in' });
  }

  /**
   * The open connections a command addresses, appended to `out`: one connection (conn_id), or
   * every connection of each user in `user_ids` (a fan-out) or of `user_id`, minus
   * exclude_conn_id. Returns how many users were reached.
   */
  private targets(c: mqim.v1.IGateCommand, out: Connection[]): number {
    if (c.connId) {
      const conn = this.table.get(c.connId);
      if (!conn || conn.closed) return 0;
      out.push(conn);
      return 1;
    }
    let reached = 0;
    for (const id of c.userIds?.length ? c.userIds : [c.userId ?? 0]) {
      const set = this.table.userConnections(longToNumber(id));
      if (!set) continue;
      const before = out.length;
      for (const conn of set) if (!conn.closed && conn.id !== c.excludeConnId) out.push(conn);
      if (out.length > before) reached++;
    }
    return reached;
  }

  private write(conn: Connection, cmd: number, seq: number, body: Uint8Array): void {
    if (conn.pendingBytes() > this.maxPendingBytes) {
      this.deps.metrics.errors.inc({ code: 'IM_ERR_SLOW_CONSUMER' });
      // Queued past the limit, behind what it has not read: the client learns why it was closed
      // if it catches up within the close grace.
      const why = this.errorBody('IM_ERR_SLOW_CONSUMER', 'output not read fast enough', 0, 0);
      conn.write(encodeFrame(CommandId.ERROR_NOTIFY, conn.nextServerSeq(), why));
      conn.close('slow consumer: output buffer full', this.log, 'warn');
      return;
    }
    if (conn.write(encodeFrame(cmd, seq, body))) this.deps.metrics.framesOut.inc({ cmd: commandName(cmd) });
  }

  private sendError(conn: Connection, name: ImErrorCode, text: string, cmd: number, seq: number): void {
    this.write(conn, CommandId.ERROR_NOTIFY, conn.nextServerSeq(), this.errorBody(name, text, cmd, seq));
  }

  private errorBody(name: ImErrorCode, text: string, cmd: number, seq: number): Uint8Array {
    return CIM.Ext.MqimErrorNotify.encode({
      errorCode: ImErrorNumber[name],
      errorName: name,
      text,
      requestCmd: cmd,
      requestSeq: seq,
    }).finish();
  }

  private badBody(conn: Connection, cmd: number, seq: number): void {
    this.deps.metrics.errors.inc({ code: 'IM_ERR_BAD_BODY' });
    this.sendError(conn, 'IM_ERR_BAD_BODY', `invalid ${commandName(cmd)} body`, cmd, seq);
  }

  /** A refused send gets an ack whose res_code is not OK, plus an error notice saying why. */
  private rejectSend(
    conn: Connection,
    seq: number,
    msg: CIM.Message.CIMMsgData,
    name: ImErrorCode,
    text: string,
  ): void {
    this.deps.metrics.errors.inc({ code: name });
    const ack = CIM.Message.CIMMsgDataAck.encode({
      fromUserId: conn.userId,
      toSessionId: msg.toSessionId,
      clientMsgId: msg.clientMsgId,
      serverMsgId: 0,
      resCode: CIM.Def.CIMResCode.RES_CODE_UNKNOWN,
      sessionType: msg.sessionType,
      createTime: Math.floor(Date.now() / 1000),
    }).finish();
    this.write(conn, CommandId.MSG_DATA_ACK, seq, ack);
    this.sendError(conn, name, text, CommandId.MSG_DATA, seq);
  }

  // ---- timers ----

  private sweep(): void {
    const now = Date.now();
    this.userSends.sweep(now);
    const refreshDue = now - this.lastRouteRefresh >= this.options.routeTtlMs / 3;
    const live: Route[] = [];
    for (const conn of this.table.all()) {
      if (conn.closed) continue;
      // The client learns why it was closed (0x0802 goes out before the close, which flushes).
      if (!conn.loggedIn) {
        if (now - conn.openedAt > this.options.loginTimeoutMs) {
          this.sendError(conn, 'IM_ERR_LOGIN_TIMEOUT', 'no login within the login timeout', 0, 0);
          conn.close('login timeout', this.log);
        }
        continue;
      }
      if (now - conn.lastSeenAt > this.options.heartbeatTimeoutMs) {
        this.sendError(conn, 'IM_ERR_HEARTBEAT_TIMEOUT', 'no heartbeat within the heartbeat timeout', 0, 0);
        conn.close('heartbeat timeout', this.log);
        continue;
      }
      this.admission.expire(conn, now);
      this.queries.expire(conn, now);
      if (refreshDue) live.push(this.routeOf(conn));
    }
    if (refreshDue) {
      this.lastRouteRefresh = now;
      // Also re-creates routes Redis lost: the gate is the source of truth for its connections.
      if (live.length)
        this.deps.routes
          .refresh(live, this.options.routeTtlMs)
          .catch((err: Error) =>
            this.log.warn({ err: err.message }, 'route refresh failed; retrying next sweep'),
          );
    }
  }

  private routeOf(conn: Connection): Route {
    const route: Route = {
      userId: conn.userId,
      gateId: this.options.gateId,
      connId: conn.id,
      clientType: conn.clientType,
      loginAt: conn.openedAt,
    };
    if (conn.tokenId) route.tokenId = conn.tokenId;
    return route;
  }
}

const EMPTY = new Uint8Array(0);

/** The IP of a `host:port` remote (IPv6 hosts contain colons; the port is after the last one). */
function addressOf(remote: string): string {
  const at = remote.lastIndexOf(':');
  return (at > 0 ? remote.slice(0, at) : remote).replace(/^::ffff:/, '');
}

/** A wait that never keeps the process alive on its own (a drain races it against the flush). */
function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

const QUERY_REFUSALS = {
  'in-flight': 'too many queries in flight on this connection; wait for their answers',
  bytes: 'query reply bytes over this connection’s budget; retry in a moment',
  unread: 'earlier replies not read yet; read them before asking again',
} as const;
