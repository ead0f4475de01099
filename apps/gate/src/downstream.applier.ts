import { CommandId, longToNumber, mqim, toId } from '@mqim/protocol';
import type { Connection } from './connection';
import { routeOf, type GateContext } from './gate.context';
import { answersQuery } from './query.budget';

const EMPTY = new Uint8Array(0);

/**
 * Cluster → client: applies the GateBatches logic and the job publish to this gate's topic — frames
 * to one connection or to every connection of some users, login bindings, kicks — in publish order.
 * It settles the budgets the upstream side charged (a send answered, a query answered) and observes
 * end-to-end delivery latency.
 */
export class DownstreamApplier {
  constructor(private readonly ctx: GateContext) {}

  /** One MQ message of the gate topic. Never throws: one bad command must not block the FIFO queue. */
  async apply(body: Uint8Array): Promise<void> {
    let batch: mqim.v1.GateBatch;
    try {
      batch = mqim.v1.GateBatch.decode(body);
    } catch (err) {
      // Retrying cannot fix it, and it would hold up the gate's only queue.
      this.ctx.log.error({ err: (err as Error).message }, 'undecodable gate batch dropped');
      return;
    }
    for (const command of batch.commands) {
      try {
        // Only a login binding waits (route registration); frames are written synchronously, so
        // most commands cost no microtask turn.
        const pending = this.command(command);
        if (pending !== undefined) await pending;
      } catch (err) {
        this.ctx.log.error({ err: (err as Error).message, cmd: command.cmd }, 'gate command failed');
      }
    }
  }

  /** Returns a promise only for the one command that waits (a login binding). */
  private command(c: mqim.v1.IGateCommand): Promise<void> | undefined {
    const action = c.action ?? mqim.v1.GateAction.GATE_ACTION_FRAME;
    const body = c.body ?? EMPTY;
    const cmd = c.cmd ?? 0;
    if (action === mqim.v1.GateAction.GATE_ACTION_LOGIN_OK) return this.login(c, cmd, body);
    // Collected before writing: a kick closes connections, which leave the table's sets.
    const targets: Connection[] = [];
    const users = this.targets(c, targets);
    if (cmd === CommandId.MSG_DATA_ACK && c.connId && targets.length === 1)
      this.ctx.admission.answered(targets[0]!, c.seq ?? 0);
    if (c.connId && targets.length === 1 && answersQuery(cmd, body))
      this.ctx.queries.answered(targets[0]!, body.length, Date.now());
    for (const conn of targets) {
      // Presence notices go only to connections that subscribed (0x0824).
      if (cmd === CommandId.PRESENCE_NOTIFY && !conn.presenceSubscribed) continue;
      if (cmd) this.ctx.writer.write(conn, cmd, c.seq || conn.nextServerSeq(), body);
      if (action === mqim.v1.GateAction.GATE_ACTION_KICK)
        conn.close(`kicked: ${c.reason ?? ''}`, this.ctx.log);
    }
    if (cmd === CommandId.MSG_DATA && c.originAtMs && users)
      this.observeDelivery(longToNumber(c.originAtMs), users);
  }

  /** End-to-end delivery latency, one observation per user reached. */
  private observeDelivery(originAtMs: number, users: number): void {
    const seconds = (Date.now() - originAtMs) / 1000;
    for (let i = 0; i < users; i++) this.ctx.deps.metrics.deliverySeconds.observe(seconds);
  }

  private async login(c: mqim.v1.IGateCommand, cmd: number, body: Uint8Array): Promise<void> {
    const conn = this.ctx.table.get(c.connId ?? '');
    if (!conn || conn.closed) return;
    const userId = toId(c.userId ?? 0);
    conn.clientType = c.clientType ?? 0;
    conn.tokenId = c.tokenId ?? '';
    this.ctx.table.bindUser(conn, userId);
    // Register before answering: a message sent to this user right after it sees the login
    // response must find the route.
    await this.ctx.deps.routes.register(routeOf(conn, this.ctx.options.gateId), this.ctx.options.routeTtlMs);
    conn.loggedInAt ||= Date.now();
    this.ctx.presence.online(conn);
    this.ctx.writer.write(conn, cmd, c.seq ?? 0, body);
    this.ctx.deps.metrics.connections.inc({ transport: conn.transport, state: 'logged_in' });
  }

  /**
   * The open connections a command addresses, appended to `out`: one connection (conn_id), or
   * every connection of each user in `user_ids` (a fan-out) or of `user_id`, minus
   * exclude_conn_id. Returns how many users were reached.
   */
  private targets(c: mqim.v1.IGateCommand, out: Connection[]): number {
    if (c.connId) {
      const conn = this.ctx.table.get(c.connId);
      if (!conn || conn.closed) return 0;
      out.push(conn);
      return 1;
    }
    let reached = 0;
    for (const id of c.userIds?.length ? c.userIds : [c.userId ?? 0]) {
      const set = this.ctx.table.userConnections(longToNumber(id));
      if (!set) continue;
      const before = out.length;
      for (const conn of set) if (!conn.closed && conn.id !== c.excludeConnId) out.push(conn);
      if (out.length > before) reached++;
    }
    return reached;
  }
}
