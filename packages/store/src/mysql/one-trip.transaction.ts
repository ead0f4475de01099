import type { CompiledQuery } from 'kysely';
import { createPool, format, type Pool, type PoolConnection } from 'mysql2';
import { errorCode } from '../internal/sql-dialect';
import { StoreOutcomeUnknownError, StoreUnavailableError } from '../store.errors';
import { mapMysqlError } from './mysql-errors';

export interface OneTripOptions {
  readonly uri: string;
  readonly connectTimeoutMs: number;
  /**
   * Larger transactions are not sent this way; also capped below the server's
   * `max_allowed_packet` (read once per connection).
   */
  readonly maxBytes: number;
  /** A transaction not answered in this long fails with StoreOutcomeUnknownError. */
  readonly queryTimeoutMs: number;
}

/** Backslash escapes in values (what mysql2's `format` writes) must mean escapes on this pool. */
const SESSION_SQL_MODE = "SET SESSION sql_mode = REPLACE(@@SESSION.sql_mode, 'NO_BACKSLASH_ESCAPES', '')";

/**
 * Runs a write-only transaction in one round trip: `START TRANSACTION`, its statements and `COMMIT`
 * go to the server as one multi-statement query on a connection of its own. A group commit of
 * message saves is four to twenty statements (sends, timelines and sessions per shard, the
 * conversation); sent one by one on a busy machine each waits for both processes to be scheduled,
 * which made the transaction — and every message's latency — ~20 round trips long
 * (docs/performance.md, round 10).
 *
 * Values are escaped into the text by mysql2 (`format`, the same escaping as `query`); blobs travel
 * as hex. Each connection of the pool clears `NO_BACKSLASH_ESCAPES` from its session before use, so
 * the escaping holds whatever the server's global mode. The pool allows multiple statements and
 * serves nothing else, so no other query can be turned into several by a value.
 *
 * If a statement fails, the server skips the rest (COMMIT included) and this rolls the transaction
 * back before the connection goes back to the pool: the caller sees the error and nothing of the
 * batch is stored. If the connection fails after the text was sent, the server may still have
 * committed it: that is StoreOutcomeUnknownError, not "nothing stored".
 */
export class OneTripTransaction {
  readonly #pool: Pool;
  #maxBytes: number;

  constructor(private readonly options: OneTripOptions) {
    this.#maxBytes = options.maxBytes;
    this.#pool = createPool({
      uri: options.uri,
      connectionLimit: 2,
      connectTimeout: options.connectTimeoutMs,
      multipleStatements: true,
      supportBigNumbers: true,
      bigNumberStrings: false,
      charset: 'utf8mb4_unicode_ci',
      enableKeepAlive: true,
      waitForConnections: true,
    });
  }

  /** The query text, or undefined when it is over the byte budget (run it statement by statement). */
  text(statements: readonly CompiledQuery[]): string | undefined {
    const parts = ['START TRANSACTION'];
    let bytes = 0;
    for (const q of statements) {
      const part = format(q.sql, q.parameters as Parameters<typeof format>[1]);
      bytes += Buffer.byteLength(part);
      if (bytes > this.#maxBytes) return undefined;
      parts.push(part);
    }
    parts.push('COMMIT');
    return parts.join(';\n');
  }

  /**
   * Commits `text` (from `text()`). Rejects with the server's error (nothing stored),
   * StoreUnavailableError (nothing sent) or StoreOutcomeUnknownError (sent, answer lost).
   */
  async run(text: string): Promise<void> {
    const conn = await this.#connection();
    try {
      await query(conn, text, this.options.queryTimeoutMs);
    } catch (err) {
      const mapped = mapMysqlError(err);
      if (mapped instanceof StoreUnavailableError || errorCode(err) === 'PROTOCOL_SEQUENCE_TIMEOUT') {
        conn.destroy();
        throw new StoreOutcomeUnknownError(`mysql: the group commit's answer was lost (${String(mapped)})`, {
          cause: err,
        });
      }
      await rollback(conn);
      throw mapped;
    }
    conn.release();
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.#pool.end(() => resolve()));
  }

  async #connection(): Promise<PoolConnection> {
    const conn = await new Promise<PoolConnection>((resolve, reject) =>
      this.#pool.getConnection((err, c) => (err ? reject(mapMysqlError(err)) : resolve(c))),
    );
    const prepared = conn as PoolConnection & { mqimPrepared?: boolean };
    if (prepared.mqimPrepared) return conn;
    try {
      await query(conn, SESSION_SQL_MODE, this.options.queryTimeoutMs);
      const packet = await maxAllowedPacket(conn, this.options.queryTimeoutMs);
      // Room for START TRANSACTION / COMMIT and the protocol's own bytes.
      if (packet > 0) this.#maxBytes = Math.min(this.#maxBytes, packet - 64 * 1024);
    } catch (err) {
      conn.destroy();
      throw mapMysqlError(err) instanceof StoreUnavailableError
        ? mapMysqlError(err)
        : new StoreUnavailableError(`mysql: could not prepare a group-commit connection: ${String(err)}`, {
            cause: err,
          });
    }
    prepared.mqimPrepared = true;
    return conn;
  }
}

function query(conn: PoolConnection, sql: string, timeout: number): Promise<unknown> {
  return new Promise((resolve, reject) =>
    conn.query({ sql, timeout }, (err, rows) => (err ? reject(err) : resolve(rows))),
  );
}

async function maxAllowedPacket(conn: PoolConnection, timeout: number): Promise<number> {
  const rows = (await query(conn, 'SELECT @@max_allowed_packet AS p', timeout)) as Array<{
    p: number | string;
  }>;
  return Number(rows[0]?.p ?? 0);
}

/** Ends what the failed statement left open; a connection that cannot is dropped, not reused. */
async function rollback(conn: PoolConnection): Promise<void> {
  try {
    await query(conn, 'ROLLBACK', 10_000);
    conn.release();
  } catch {
    conn.destroy();
  }
}
