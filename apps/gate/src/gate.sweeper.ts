import { routeOf, type GateContext } from './gate.context';
import type { Route } from '@mqim/cache';
import type { UserSendLimiter } from './user-send.limiter';

/**
 * The gate's one timer: once a second it closes connections that did not log in or beat in time
 * (telling them why first), expires budgets whose answers never came, and every third of the route
 * TTL refreshes the routes of the connections it holds — re-creating any the cache lost, since the
 * gate is the source of truth for its connections. Timers are not per connection.
 */
export class GateSweeper {
  private timer?: NodeJS.Timeout;
  private lastRouteRefresh = 0;

  constructor(
    private readonly ctx: GateContext,
    private readonly userSends: UserSendLimiter,
  ) {}

  start(intervalMs = 1000): void {
    this.timer = setInterval(() => this.sweep(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Refreshes every route now instead of at the next periodic refresh. */
  refreshRoutes(): void {
    this.lastRouteRefresh = 0;
    this.sweep();
  }

  sweep(now = Date.now()): void {
    const { options, log } = this.ctx;
    this.userSends.sweep(now);
    const refreshDue = now - this.lastRouteRefresh >= options.routeTtlMs / 3;
    const live: Route[] = [];
    for (const conn of this.ctx.table.all()) {
      if (conn.closed) continue;
      // The client learns why it was closed (0x0802 goes out before the close, which flushes).
      if (!conn.loggedIn) {
        if (now - conn.openedAt > options.loginTimeoutMs) {
          this.ctx.writer.error(conn, 'IM_ERR_LOGIN_TIMEOUT', 'no login within the login timeout', 0, 0);
          conn.close('login timeout', log);
        }
        continue;
      }
      if (now - conn.lastSeenAt > options.heartbeatTimeoutMs) {
        this.ctx.writer.error(
          conn,
          'IM_ERR_HEARTBEAT_TIMEOUT',
          'no heartbeat within the heartbeat timeout',
          0,
          0,
        );
        conn.close('heartbeat timeout', log);
        continue;
      }
      this.ctx.admission.expire(conn, now);
      this.ctx.queries.expire(conn, now);
      if (refreshDue) live.push(routeOf(conn, options.gateId));
    }
    if (!refreshDue) return;
    this.lastRouteRefresh = now;
    if (live.length)
      this.ctx.deps.routes
        .refresh(live, options.routeTtlMs)
        .catch((err: Error) => log.warn({ err: err.message }, 'route refresh failed; retrying next sweep'));
  }
}
