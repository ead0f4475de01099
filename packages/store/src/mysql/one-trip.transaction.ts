import type { CompiledQuery } from 'kysely';
import { createPool, format, type Pool, type PoolConnection } from 'mysql2';
import { mapMysqlError } from './mysql-errors';

export interface OneTripOptions {
  readonly uri: string;
  readonly connectTimeoutMs: number;
  /** Larger transactions are not sent this way (the server's max_allowed_packet is 16 MiB by default). */
  readonly maxBytes: number;
}

/**
 * Runs a write-only transaction in one round trip: `START TRANSACTION`, its statements and `COMMIT`
 * go to the server as one multi-statement query on a connection of its own. A group commit of
 * message saves is four to twenty statements (sends, timelines and sessions per shard, the
 * conversation); sent one by one on a busy machine each waits for both processes to be scheduled,
 * which made the transaction — and every message's latency — ~20 round trips long (measured 130 ms
 * for 29 messages at 1,000 msg/s; docs/performance.md, round 9).
 *
 * Values are escaped into the text by mysql2 (`format`, the same escaping as `query`); blobs travel
 * as hex. The pool allows multiple statements and serves nothing else, so no other query can be
 * turned into several by a value. If a statement fails, the server skips the rest (COMMIT
 * included) and this rolls the transaction back before the connection goes back to the pool: the
 * caller sees the error and nothing of the batch is stored.
 */
export class OneTripTransaction {
  readonly #pool: Pool;

  constructor(private readonly options: OneTripOptions) {
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

  /** The query text, or undefined when it is over `maxBytes` (run it statement by statement). */
  text(statements: readonly CompiledQuery[]): string | undefined {
    const parts = ['START TRANSACTION'];
    let bytes = 0;
    for (const q of statements) {
      const part = format(q.sql, q.parameters as Parameters<typeof format>[1]);
      bytes += part.length;
      if (bytes > this.options.maxBytes) return undefined;
      parts.push(part);
    }
    parts.push('COMMIT');
    return parts.join(';\n');
  }

  /** Commits `text` (from `text()`) or rejects with nothing of it stored. */
  async run(text: string): Promise<void> {
    const conn = await new Promise<PoolConnection>((resolve, reject) =>
      this.#pool.getConnection((err, c) => (err ? reject(mapMysqlError(err)) : resolve(c))),
    );
    try {
      await query(conn, text);
    } catch (err) {
      await rollback(conn);
      throw mapMysqlError(err);
    }
    conn.release();
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.#pool.end(() => resolve()));
  }
}

function query(conn: PoolConnection, text: string): Promise<void> {
  return new Promise((resolve, reject) => conn.query(text, (err) => (err ? reject(err) : resolve())));
}

/** Ends what the failed statement left open; a connection that cannot is dropped, not reused. */
async function rollback(conn: PoolConnection): Promise<void> {
  try {
    await query(conn, 'ROLLBACK');
    conn.release();
  } catch {
    conn.destroy();
  }
}
