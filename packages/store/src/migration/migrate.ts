import { sql } from 'kysely';
import { readInt } from '../internal/ids';
import type { Db } from '../internal/store-context';
import { StoreSchemaError } from '../store.errors';
import type { StoreDialect } from '../store.port';
import { loadMigrations, type SqlMigration } from './sql-migration.provider';

export interface MigrateArgs {
  readonly db: Db;
  readonly dialect: StoreDialect;
  readonly shards: number;
  readonly migrationsDir: string;
}

const LOCK_NAME = 'mqim_schema_migration';
const LOCK_TIMEOUT_SECONDS = 600;

/**
 * Applies the migrations not yet recorded in `im_schema_migration`, in name order, then checks
 * the shard count the database was created with. Concurrent runs are serialised: on MySQL by a
 * named lock (GET_LOCK, released by the server if the process dies), on SQLite by running
 * everything in one BEGIN IMMEDIATE transaction (DDL is transactional there, so a failed run
 * leaves nothing behind). MySQL DDL commits implicitly, so its migration files are written to be
 * re-runnable (IF NOT EXISTS) and a run that died half-way completes on the next attempt.
 */
export async function migrateToLatest(args: MigrateArgs): Promise<void> {
  const migrations = await loadMigrations(args.migrationsDir, args.dialect, args.shards);
  await args.db.connection().execute(async (conn) => {
    if (args.dialect === 'sqlite') {
      await sql`begin immediate`.execute(conn);
      try {
        await applyPending(conn, migrations);
        await sql`commit`.execute(conn);
      } catch (err) {
        await sql`rollback`.execute(conn);
        throw err;
      }
      return;
    }
    const locked = await sql<{
      ok: unknown;
    }>`select get_lock(${LOCK_NAME}, ${LOCK_TIMEOUT_SECONDS}) as ok`.execute(conn);
    if (readInt(locked.rows[0]?.ok ?? 0, 'get_lock') !== 1) {
      throw new StoreSchemaError(`another migration held ${LOCK_NAME} for ${LOCK_TIMEOUT_SECONDS} s`);
    }
    try {
      await applyPending(conn, migrations);
    } finally {
      await sql`select release_lock(${LOCK_NAME})`.execute(conn);
    }
  });
  await checkShardCount(args.db, args.shards);
}

async function applyPending(conn: Db, migrations: readonly SqlMigration[]): Promise<void> {
  await sql`create table if not exists im_schema_migration (
    name varchar(128) not null primary key,
    applied_at bigint not null
  )`.execute(conn);
  const done = await sql<{ name: string }>`select name from im_schema_migration`.execute(conn);
  const applied = new Set(done.rows.map((r) => r.name));
  for (const migration of migrations) {
    if (applied.has(migration.name)) continue;
    for (const statement of migration.statements) {
      try {
        await sql.raw(statement).execute(conn);
      } catch (err) {
        const why = err instanceof Error ? err.message : String(err);
        throw new StoreSchemaError(
          `migration ${migration.name} failed: ${why}\n  in: ${statement.slice(0, 200)}`,
          {
            cause: err,
          },
        );
      }
    }
    await sql`insert into im_schema_migration (name, applied_at) values (${migration.name}, ${Date.now()})`.execute(
      conn,
    );
  }
}

/** Refuses a store configured with a shard count other than the database's. */
export async function checkShardCount(db: Db, shards: number): Promise<void> {
  const row = await db
    .selectFrom('im_store_meta')
    .select('meta_value')
    .where('meta_key', '=', 'shard_count')
    .executeTakeFirst();
  if (!row) throw new StoreSchemaError('im_store_meta has no shard_count: run `mqim migrate`');
  if (Number(row.meta_value) !== shards) {
    throw new StoreSchemaError(
      `database was created with ${row.meta_value} shards but the store is configured with ${shards}; ` +
        'changing the shard count needs a resharding migration',
    );
  }
}
