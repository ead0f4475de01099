import type { Kysely } from 'kysely';
import type { RecvShardName, SendShardName, StoreDatabase } from './database.types';
import type { SqlDialect } from './sql-dialect';

export type Db = Kysely<StoreDatabase>;

/** What the shared repositories need from a concrete store. */
export interface StoreContext {
  /** Throws `StoreUnavailableError` once the store is closed. */
  readonly db: Db;
  readonly sql: SqlDialect;
  readonly shards: number;
  /** log2 of scrypt's N for new password hashes. @default 14 */
  readonly passwordHashCost?: number;
  /** Unix milliseconds. */
  now(): number;
  /**
   * Runs `fn` in one transaction and commits it; rolls back and rethrows on error. SQLite takes
   * the write lock up front (BEGIN IMMEDIATE); MySQL retries the whole function on deadlock, so
   * `fn` must have no effects outside `trx`.
   */
  transaction<T>(fn: (trx: Db) => Promise<T>): Promise<T>;
}

export function nowSeconds(ctx: StoreContext): number {
  return Math.floor(ctx.now() / 1000);
}

export function shardOf(userId: number, shards: number): number {
  return userId % shards;
}

export function sendTable(fromUserId: number, shards: number): SendShardName {
  return `im_message_send_${shardOf(fromUserId, shards)}`;
}

export function recvTable(ownerUserId: number, shards: number): RecvShardName {
  return `im_message_recv_${shardOf(ownerUserId, shards)}`;
}
