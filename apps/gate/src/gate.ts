import { randomBytes } from 'node:crypto';
import { BatchPublisher, publishMetrics, type Subscription } from '@mqim/bus';
import type { Route } from '@mqim/cache';
import type { Logger } from '@mqim/config';
import {
  kickOutNotice,
  CommandId,
  DEFAULT_LANES,
  KickOutReason,
  MqNames,
  mqim,
  toErrorNotify,
  type ImErrorCode,
} from '@mqim/protocol';
import { Connection, type FrameSink, type Transport } from './connection';
import { ConnectionTable } from './connection.table';
import { DownstreamApplier } from './downstream.applier';
import type { FrameHandler } from './frame-handler';
import { FrameWriter } from './frame.writer';
import { routeOf, type GateContext } from './gate.context';
import { ANSWER_EXPIRY_MS, type GateDeps, type GateOptions } from './gate.options';
import { GateSweeper } from './gate.sweeper';
import { PresenceEvents } from './presence.events';
import { QueryBudget } from './query.budget';
import { SendAdmission } from './send.admission';
import { TcpListener } from './tcp.listener';
import { UpstreamPublisher } from './upstream.publisher';
import { UpstreamRouter } from './upstream.router';
import { UserSendLimiter } from './user-send.limiter';
import { WsListener } from './ws.listener';

export type { GateDeps, GateOptions } from './gate.options';

/**
 * Delivery receipts read within this window travel to the job in one MQ message. They feed the
 * once-a-second ack-time flush and the seconds-long push check, so a few ms cost nothing.
 */
const RECEIPT_WINDOW_MS = 5;

/**
 * The connection tier. Holds sockets and nothing of value: frames that need state go to logic
 * over the bus; replies and deliveries come back on this gate's own topic. It never opens the
 * database, so adding or killing a gate is cheap and safe.
 *
 * This class wires the rooms and runs the lifecycle (start, drain, stop); each direction and the
 * timer has a room of its own: `UpstreamRouter` (client → cluster), `DownstreamApplier` (cluster →
 * client), `GateSweeper` (timeouts, budgets, route refresh), `FrameWriter` (frames out).
 */
export class Gate implements FrameHandler {
  readonly names: MqNames;
  private readonly table = new ConnectionTable();
  private readonly bootId = randomBytes(4).toString('hex');
  private connCounter = 0;
  private readonly tcp: TcpListener;
  private readonly ws: WsListener;
  private subscription?: Subscription;
  private readonly log: Logger;
  private readonly writer: FrameWriter;
  private readonly receipts: BatchPublisher<mqim.v1.IDeliveryReceipt>;
  private readonly upstream: UpstreamPublisher;
  private readonly presence: PresenceEvents;
  private readonly admission: SendAdmission;
  private readonly router: UpstreamRouter;
  private readonly applier: DownstreamApplier;
  private readonly sweeper: GateSweeper;
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
    this.writer = new FrameWriter(options.maxPendingBytes ?? 4 * 1024 * 1024, deps.metrics, this.log);
    this.receipts = new BatchPublisher(deps.bus, {
      encode: (receipts) => mqim.v1.DeliveryReceiptBatch.encode({ receipts: [...receipts] }).finish(),
      sizeOf: (r) => 64 + (r.clientMsgId?.length ?? 0),
      windowMs: RECEIPT_WINDOW_MS,
      minIntervalMs: options.mqBackgroundPaceMs ?? options.mqPaceMs ?? 4,
      onPublished: publishMetrics(deps.metrics),
    });
    this.upstream = new UpstreamPublisher(deps.bus, this.names, deps.metrics, {
      lanes: options.lanes ?? DEFAULT_LANES,
      maxInFlight: options.upstreamInFlight ?? 2,
      minIntervalMs: options.mqPaceMs ?? 4,
      maxPending: options.upstreamMaxPending ?? 4096,
    });
    this.presence = new PresenceEvents(
      deps.bus,
      this.names,
      deps.metrics,
      options.gateId,
      this.log,
      // Nobody waits on presence events: paced like the receipts.
      options.mqBackgroundPaceMs ?? options.mqPaceMs ?? 4,
      this.upstream,
    );
    this.admission = new SendAdmission({
      max: options.maxOutstandingSends ?? 8192,
      expireMs: ANSWER_EXPIRY_MS,
      targetMs: options.sendTargetMs ?? 0,
    });
    let lastLeaseWarning = 0;
    const userSends = new UserSendLimiter(
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
    const queries = new QueryBudget({
      maxInFlight: options.queryMaxInFlight ?? 4,
      bytesPerSec: queryRate,
      burstBytes: 2 * queryRate,
      maxUnreadBytes: options.queryMaxUnreadBytes ?? 1024 * 1024,
      expireMs: ANSWER_EXPIRY_MS,
    });
    const ctx: GateContext = {
      options,
      deps,
      names: this.names,
      log: this.log,
      table: this.table,
      writer: this.writer,
      admission: this.admission,
      queries,
      presence: this.presence,
    };
    this.router = new UpstreamRouter(ctx, this.upstream, this.receipts, userSends);
    this.applier = new DownstreamApplier(ctx);
    this.sweeper = new GateSweeper(ctx, userSends);
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
    this.sweeper.refreshRoutes();
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
        for (const msg of messages) await this.applier.apply(msg.body);
      },
    );
    this.ports.tcp = await this.tcp.listen(this.options.host, this.options.tcpPort);
    this.ports.ws = await this.ws.listen(this.options.host, this.options.wsPort);
    this.sweeper.start();
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
    this.router.draining = true;
    this.tcp.stopAccepting();
    this.ws.stopAccepting();
    const notice = kickOutNotice(
      KickOutReason.SERVER_SHUTDOWN,
      'server shutting down; reconnect to another gate',
    );
    const connections = [...this.table.all()];
    for (const conn of connections)
      this.writer.write(conn, CommandId.KICK_OUT_NOTIFY, conn.nextServerSeq(), notice);
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
    this.sweeper.stop();
    await this.subscription?.close();
    const routes: Route[] = [];
    for (const conn of this.table.all()) if (conn.loggedIn) routes.push(routeOf(conn, this.options.gateId));
    await Promise.all([this.tcp.close(), this.ws.close()]);
    const flushed = Promise.all([this.receipts.flushAll(), this.upstream.flushAll()]);
    await (Number.isFinite(flushWithinMs) ? Promise.race([flushed, sleep(flushWithinMs)]) : flushed);
    // A clean stop withdraws its routes at once instead of leaving them to expire.
    await Promise.allSettled(routes.map((r) => this.deps.routes.unregister(r.userId, r.gateId, r.connId)));
    // The OFFLINE events of the connections closed above (sent as their routes went).
    const reported = this.presence.flushAll();
    await (Number.isFinite(flushWithinMs) ? Promise.race([reported, sleep(1000)]) : reported);
  }

  // ---- FrameHandler (the listeners' side) ----

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
        )
        .finally(() => this.presence.offline(conn));
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
      this.writer.error(conn, why.errorName as ImErrorCode, why.text, 0, 0);
    }
    conn.close(reason, this.log, 'warn');
  }

  frame(conn: Connection, cmd: number, seq: number, body: Buffer): void {
    this.router.frame(conn, cmd, seq, body);
  }
}

/** A wait that never keeps the process alive on its own (a drain races it against the flush). */
function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
