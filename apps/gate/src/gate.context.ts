import type { Route } from '@mqim/cache';
import type { Logger } from '@mqim/config';
import type { MqNames } from '@mqim/protocol';
import type { Connection } from './connection';
import type { ConnectionTable } from './connection.table';
import type { FrameWriter } from './frame.writer';
import type { GateDeps, GateOptions } from './gate.options';
import type { PresenceEvents } from './presence.events';
import type { QueryBudget } from './query.budget';
import type { SendAdmission } from './send.admission';

/**
 * What the rooms of a gate share — the upstream router, the downstream applier and the sweeper:
 * its connections, its writer and the per-connection budgets both directions settle.
 */
export interface GateContext {
  readonly options: GateOptions;
  readonly deps: GateDeps;
  readonly names: MqNames;
  readonly log: Logger;
  readonly table: ConnectionTable;
  readonly writer: FrameWriter;
  readonly admission: SendAdmission;
  readonly queries: QueryBudget;
  /** USER_ONLINE when a login is bound (applier), USER_OFFLINE when it is gone (the gate). */
  readonly presence: PresenceEvents;
}

/** A logged-in connection's route, as the cache keeps it. */
export function routeOf(conn: Connection, gateId: string): Route {
  const route: Route = {
    userId: conn.userId,
    gateId,
    connId: conn.id,
    clientType: conn.clientType,
    loginAt: conn.openedAt,
  };
  if (conn.tokenId) route.tokenId = conn.tokenId;
  return route;
}
