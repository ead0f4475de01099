import { CIM, CommandId } from '@mqim/protocol';
import type { Connection } from './connection';

export interface QueryBudgetOptions {
  /** Queries one connection may have handed to logic and not yet seen answered. */
  maxInFlight: number;
  /** Reply bytes per second a connection earns back; replies spend what they weigh. */
  bytesPerSec: number;
  /** Reply bytes a connection may take in one burst. */
  burstBytes: number;
  /** Unsent output (bytes queued for the client) past which no new query is taken. */
  maxUnreadBytes: number;
  /** A query whose answer has not come back in this long no longer counts as in flight. */
  expireMs: number;
}

export type QueryRefusal = 'in-flight' | 'bytes' | 'unread';

/**
 * The cost model of reads (history, sessions, group lists): a 40-byte request can cost hundreds
 * of kilobytes of reply, so a frame rate limit alone lets one connection pull tens of MB/s. Each
 * connection may have a few queries in flight, and its replies are paid for in bytes from a
 * bucket that refills at `bytesPerSec`; while the bucket is empty, or the client has not read
 * what it was already sent, further queries are refused (IM_ERR_QUERY_BUDGET) without reaching
 * logic. Work in flight per connection is thus bounded by count, by bytes and by the client's
 * own reading speed.
 */
export class QueryBudget {
  constructor(private readonly options: QueryBudgetOptions) {}

  /** Undefined when the query may go to logic (and is counted in flight), else why not. */
  admit(conn: Connection, now: number): QueryRefusal | undefined {
    this.refill(conn, now);
    if (conn.queriesOutstanding.length >= this.options.maxInFlight) return 'in-flight';
    if (conn.queryBytes <= 0) return 'bytes';
    if (conn.pendingBytes() > this.options.maxUnreadBytes) return 'unread';
    conn.queriesOutstanding.push(now);
    return undefined;
  }

  /** A reply (or error notice) for one of the connection's queries came back, `bytes` long. */
  answered(conn: Connection, bytes: number, now: number): void {
    if (conn.queriesOutstanding.length === 0) return;
    conn.queriesOutstanding.shift();
    this.refill(conn, now);
    conn.queryBytes -= bytes;
  }

  /** Forgets queries older than `expireMs` (called by the gate's sweep). */
  expire(conn: Connection, now: number): void {
    const times = conn.queriesOutstanding;
    let n = 0;
    while (n < times.length && now - times[n]! > this.options.expireMs) n++;
    if (n > 0) times.splice(0, n);
  }

  private refill(conn: Connection, now: number): void {
    if (conn.queryBytesAt === 0) {
      conn.queryBytes = this.options.burstBytes;
    } else {
      const earned = ((now - conn.queryBytesAt) * this.options.bytesPerSec) / 1000;
      conn.queryBytes = Math.min(this.options.burstBytes, conn.queryBytes + earned);
    }
    conn.queryBytesAt = now;
  }
}

/** Reads whose replies can be large: they pay from the connection's QueryBudget. */
export const QUERIES = new Map<number, number>([
  [CommandId.LIST_RECENT_CONTACT_SESSION_REQ, CommandId.LIST_RECENT_CONTACT_SESSION_RSP],
  [CommandId.LIST_MSG_REQ, CommandId.LIST_MSG_RSP],
  [CommandId.MSG_GET_LATEST_MSG_ID_REQ, CommandId.MSG_GET_LATEST_MSG_ID_RSP],
  [CommandId.MSG_GET_BY_MSG_ID_REQ, CommandId.MSG_GET_BY_MSG_ID_RSP],
  [CommandId.FRIEND_QUERY_USER_LIST_REQ, CommandId.FRIEND_QUERY_USER_LIST_RSP],
  [CommandId.GROUP_LIST_REQ, CommandId.GROUP_LIST_RSP],
  [CommandId.GROUP_INFO_REQ, CommandId.GROUP_INFO_RSP],
  [CommandId.GROUP_LIST_MEMBER_REQ, CommandId.GROUP_LIST_MEMBER_RSP],
  [CommandId.GROUP_ROLES_REQ, CommandId.GROUP_ROLES_RSP],
  [CommandId.GROUP_READ_RECEIPTS_REQ, CommandId.GROUP_READ_RECEIPTS_RSP],
  [CommandId.SYNC_CONV_REQ, CommandId.SYNC_CONV_RSP],
  [CommandId.SYNC_REQ, CommandId.SYNC_RSP],
  [CommandId.PRESENCE_QUERY_REQ, CommandId.PRESENCE_QUERY_RSP],
  [CommandId.PRESENCE_SUBSCRIBE_REQ, CommandId.PRESENCE_SUBSCRIBE_RSP],
  [CommandId.FRIEND_REQUEST_LIST_REQ, CommandId.FRIEND_REQUEST_LIST_RSP],
  [CommandId.SCHEDULE_LIST_REQ, CommandId.SCHEDULE_LIST_RSP],
]);
const QUERY_REPLIES = new Set<number>(QUERIES.values());

/**
 * Whether a frame from logic answers one of the connection's queries: a query's response, or an
 * error notice naming a query as its request (not one refusing a send or a group change).
 */
export function answersQuery(cmd: number, body: Uint8Array): boolean {
  if (QUERY_REPLIES.has(cmd)) return true;
  if (cmd !== CommandId.ERROR_NOTIFY) return false;
  try {
    return QUERIES.has(CIM.Ext.MqimErrorNotify.decode(body).requestCmd);
  } catch {
    return false;
  }
}
