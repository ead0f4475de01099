import type BetterSqlite3 from 'better-sqlite3';
import type { SqliteDatabase, SqliteStatement } from 'kysely';
import { LRUCache } from 'lru-cache';
import { mapSqliteError } from './sqlite-errors';

/**
 * The `database` Kysely's SqliteDialect runs on. Kysely prepares every query anew; this keeps
 * prepared statements in an LRU keyed by SQL text, so the hot path (the same few INSERT shapes)
 * is parsed once. Also the one place where driver errors are mapped to store errors.
 */
export class CachedStatementDatabase implements SqliteDatabase {
  readonly #cache: LRUCache<string, SqliteStatement>;

  constructor(
    private readonly raw: BetterSqlite3.Database,
    capacity: number,
  ) {
    this.#cache = new LRUCache({ max: Math.max(1, capacity) });
  }

  prepare(sql: string): SqliteStatement {
    const hit = this.#cache.get(sql);
    if (hit !== undefined) return hit;
    let statement: BetterSqlite3.Statement;
    try {
      statement = this.raw.prepare(sql);
    } catch (err) {
      throw mapSqliteError(err);
    }
    const wrapped = wrapStatement(statement);
    this.#cache.set(sql, wrapped);
    return wrapped;
  }

  close(): void {
    this.#cache.clear();
    this.raw.close();
  }
}

function wrapStatement(statement: BetterSqlite3.Statement): SqliteStatement {
  return {
    reader: statement.reader,
    all(parameters) {
      try {
        return statement.all(...parameters);
      } catch (err) {
        throw mapSqliteError(err);
      }
    },
    run(parameters) {
      try {
        return statement.run(...parameters);
      } catch (err) {
        throw mapSqliteError(err);
      }
    },
    iterate(parameters) {
      try {
        return statement.iterate(...parameters);
      } catch (err) {
        throw mapSqliteError(err);
      }
    },
  };
}
