import type { MysqlPool, MysqlPoolConnection } from 'kysely';
import type { Pool, PoolConnection, QueryError } from 'mysql2';

// Kysely only binds primitives, Buffers and nulls, all of which mysql2 accepts.
type BindValues = Parameters<PoolConnection['execute']>[1];
import { mapMysqlError } from './mysql-errors';

export interface PreparedPoolOptions {
  /** Run statements that have parameters through `execute` (server-side prepared statements). */
  readonly prepared: boolean;
}

type Callback = (error: unknown, result: never) => void;

/**
 * The pool Kysely's MysqlDialect runs on. Kysely calls `connection.query(sql, params)`, which
 * makes mysql2 interpolate the values into the SQL text; here statements with parameters go
 * through `execute` instead: prepared once per connection (mysql2 keeps an LRU of them, bounded
 * by `maxPreparedStatements`) and sent with binary values (blobs are not escaped into the text).
 * Also the one place where driver errors are mapped to store errors.
 */
export function preparedPool(pool: Pool, options: PreparedPoolOptions): MysqlPool {
  const wrappers = new WeakMap<PoolConnection, MysqlPoolConnection>();
  return {
    getConnection(callback) {
      pool.getConnection((err, connection) => {
        if (err) {
          callback(mapMysqlError(err), undefined as unknown as MysqlPoolConnection);
          return;
        }
        // Kysely caches its own wrapper per connection object, so hand out a stable one.
        let wrapped = wrappers.get(connection);
        if (wrapped === undefined) {
          wrapped = wrapConnection(connection, options);
          wrappers.set(connection, wrapped);
        }
        callback(null, wrapped);
      });
    },
    end(callback) {
      pool.end(callback);
    },
  };
}

function wrapConnection(connection: PoolConnection, options: PreparedPoolOptions): MysqlPoolConnection {
  return {
    get config() {
      return connection.config;
    },
    get threadId() {
      return connection.threadId;
    },
    connect: (callback) => connection.connect(callback),
    destroy: () => connection.destroy(),
    release: () => connection.release(),
    query(sql: string, parameters: unknown[], callback?: Callback) {
      const done =
        callback &&
        ((err: QueryError | null, result: unknown) =>
          err ? callback(mapMysqlError(err), undefined as never) : callback(null, result as never));
      const hasParams = Array.isArray(parameters) && parameters.length > 0;
      // Streaming (no callback) stays on `query`: mysql2's execute has no `.stream()`.
      if (options.prepared && hasParams && done)
        return connection.execute(sql, parameters as BindValues, done);
      return done ? connection.query(sql, parameters, done) : connection.query(sql, parameters);
    },
  };
}
