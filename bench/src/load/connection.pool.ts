import { CimConnection } from './cim.connection';
import type { ConnectionEvents, LoadConnection } from './load.connection';
import { SocketIoConnection } from './socketio.connection';
import type { ConnectCommand, ConnectResult, UserSpec, WorkerStats } from './worker.protocol';

/** The connections of one worker process: opened with bounded concurrency, heartbeating, counted. */
export class ConnectionPool {
  readonly byUser = new Map<number, LoadConnection>();
  readonly list: LoadConnection[] = [];
  private readonly timers = new Map<LoadConnection, NodeJS.Timeout>();
  readonly stats: WorkerStats = {
    open: 0,
    closed: 0,
    heartbeatsSent: 0,
    heartbeatReplies: 0,
    errorNotices: 0,
    reasons: {},
  };

  constructor(private readonly events: ConnectionEvents) {}

  /** Counts a close or error reason; only the first 20 distinct ones are kept. */
  note(reason: string): void {
    const key = reason.slice(0, 120);
    if (key in this.stats.reasons) this.stats.reasons[key]!++;
    else if (Object.keys(this.stats.reasons).length < 20) this.stats.reasons[key] = 1;
  }

  async connect(cmd: ConnectCommand): Promise<ConnectResult> {
    const started = performance.now();
    const errors = new Map<string, number>();
    let next = 0;
    let connected = 0;
    let failed = 0;
    const runner = async () => {
      while (next < cmd.users.length) {
        const user = cmd.users[next++]!;
        const conn = this.create(user);
        try {
          await conn.open(cmd.timeoutMs);
          this.byUser.set(user.userId, conn);
          this.list.push(conn);
          this.stats.open++;
          connected++;
          if (cmd.heartbeatMs > 0) this.startHeartbeat(conn, cmd.heartbeatMs);
        } catch (err) {
          failed++;
          const reason = (err as Error).message;
          errors.set(reason, (errors.get(reason) ?? 0) + 1);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, cmd.concurrency) }, runner));
    return {
      connected,
      failed,
      ms: performance.now() - started,
      errors: [...errors].slice(0, 5).map(([reason, n]) => `${n}× ${reason}`),
    };
  }

  closeAll(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    for (const c of this.list) c.close();
  }

  private create(user: UserSpec): LoadConnection {
    return user.endpoint.kind === 'socketio'
      ? new SocketIoConnection(user, this.events)
      : new CimConnection(user, this.events);
  }

  // Random phase so that N connections spread their heartbeats evenly, as real clients do.
  private startHeartbeat(conn: LoadConnection, everyMs: number): void {
    const beat = () => {
      if (!conn.isOpen) {
        this.timers.delete(conn);
        return;
      }
      conn.heartbeat();
      this.stats.heartbeatsSent++;
      this.timers.set(conn, setTimeout(beat, everyMs));
    };
    this.timers.set(conn, setTimeout(beat, Math.random() * everyMs));
  }
}
