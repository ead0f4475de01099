import Database from 'better-sqlite3';
import { CompiledQuery, Kysely, SqliteDialect } from 'kysely';
import type { StoreDatabase } from '../internal/database.types';
import { assertUint } from '../internal/ids';
import { InflightTracker } from '../internal/inflight';
import { DEFAULT_SHARDS, assertShardCount } from '../internal/shards';
import { passwordHashCost } from '../internal/password-hash';
import { sqliteDialect } from '../internal/sql-dialect';
import type { Db, StoreContext } from '../internal/store-context';
import { DEFAULT_MIGRATIONS_DIR } from '../migration/sql-migration.provider';
import { migrateToLatest } from '../migration/migrate';
import { MessageWriter } from '../repositories/message.writer';
import type { ValidSave } from '../repositories/message.validation';
import { createRepositories } from '../repositories/repositories';
import { StoreInvalidArgumentError, StoreUnavailableError } from '../store.errors';
import type { Store } from '../store.port';
import { SaveCoalescer } from '../internal/save.coalescer';
import { mapSqliteError } from './sqlite-errors';
import { CachedStatementDatabase } from './statement-cache';
import { WalCheckpointer } from './wal.checkpointer';

export interface SqliteStoreOptions {
  /** Database file, created if missing; `':memory:'` for a throwaway store. */
  readonly filename: string;
  /**
   * n in `im_message_send_{k}` / `im_message_recv_{k}`; fixed when the file is created.
   * @default 4
   */
  /**
   * log2 of scrypt's N for new password hashes (and the floor below which a login re-hashes):
   * 14 (~50 ms a hash) unless a load test registers thousands of synthetic users. 10–20.
   * @default 14
   */
  readonly passwordHashCost?: number;
  readonly shards?: number;
  /**
   * `PRAGMA synchronous` in WAL mode. `'normal'`: a commit has written the WAL through the OS
   * before `save()` resolves, so a crash of the process never loses an acked message; an OS crash
   * or power loss may lose the last transactions. `'full'` also fsyncs the WAL on every commit
   * (one fsync per group-commit batch) and survives those too, at about 2/3 of the throughput
   * measured in docs/storage.md.
   * @default 'normal'
   */
  readonly synchronous?: 'full' | 'normal';
  /**
   * WAL size, in pages of 4 KiB, at which a commit also checkpoints. Larger means fewer, longer
   * checkpoints (each blocks the event loop while it copies pages and fsyncs).
   * @default 16384
   */
  readonly walAutocheckpointPages?: number;
  /**
   * Checkpoint the WAL from a worker thread (PASSIVE, every `checkpointIntervalMs`) instead of
   * letting a commit on the main thread do it: a checkpoint of a full WAL blocked the event loop
   * for 100-180 ms. The autocheckpoint above stays as the safety net. Not for `':memory:'`.
   * @default true (never for `:memory:`)
   */
  readonly backgroundCheckpoint?: boolean;
  /** @default 250 */
  readonly checkpointIntervalMs?: number;
  /**
   * Told when the checkpoint thread stops after it started (the store goes on, checkpointing on
   * commits again, with their event-loop stalls): log it.
   */
  readonly onBackgroundError?: (message: string) => void;
  /**
   * Coalesce concurrent `messages.save()` calls into one transaction (group commit).
   * @default true
   */
  readonly groupCommit?: boolean;
  /**
   * Most messages per group-commit transaction.
   * @default 512
   */
  readonly maxBatch?: number;
  /**
   * How long a statement waits for another process's write lock before failing with
   * `StoreUnavailableError`.
   * @default 5000
   */
  readonly busyTimeoutMs?: number;
  /**
   * Prepared statements kept (LRU by SQL text).
   * @default 512
   */
  readonly statementCacheSize?: number;
  /**
   * Where `sqlite/NNNN_*.sql` migrations live.
   * @default the repository's `migrations/`
   */
  readonly migrationsDir?: string;
  /**
   * Unix milliseconds; injectable for tests.
   * @default Date.now
   */
  readonly clock?: () => number;
}

/**
 * Opens (creating if needed) an SQLite store and migrates it to the latest schema. One process
 * should own the file: it is the standalone server's database.
 */
export async function createSqliteStore(options: SqliteStoreOptions): Promise<Store> {
  const store = new SqliteStore(options);
  try {
    await store.migrate();
    await store.startCheckpointer();
  } catch (err) {
    await store.close();
    throw err;
  }
  return store;
}

class SqliteStore implements Store {
  readonly dialect = 'sqlite' as const;
  readonly shards: number;
  readonly users;
  readonly tokens;
  readonly messages;
  readonly sessions;
  readonly receipts;
  readonly groups;
  readonly devices;
  readonly mutes;
  readonly contacts;
  readonly bots;
  readonly schedules;

  readonly #kysely: Db;
  readonly #migrationsDir: string;
  readonly #coalescer: SaveCoalescer | null;
  readonly #checkpointer: WalCheckpointer | null;
  readonly #inflight = new InflightTracker();
  #closed = false;

  constructor(options: SqliteStoreOptions) {
    this.shards = assertShardCount(options.shards ?? DEFAULT_SHARDS);
    this.#migrationsDir = options.migrationsDir ?? DEFAULT_MIGRATIONS_DIR;
    let raw: Database.Database;
    try {
      raw = new Database(options.filename, { timeout: options.busyTimeoutMs ?? 5000 });
      raw.pragma('journal_mode = WAL');
      raw.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
      // Group-commit transactions touch many pages; a bigger page cache avoids re-reading them.
      raw.pragma('cache_size = -32768');
      // Every batch rewrites pages scattered over the timelines and sessions; checkpointing less
      // often copies each hot page back into the database once per checkpoint instead of once per
      // commit (measured: the default 1,000 pages cost about a quarter of the throughput).
      raw.pragma(
        `wal_autocheckpoint = ${assertUint(options.walAutocheckpointPages ?? 16_384, 1 << 24, 'walAutocheckpointPages')}`,
      );
      raw.pragma('temp_store = MEMORY');
    } catch (err) {
      throw mapSqliteError(err);
    }
    this.#kysely = new Kysely<StoreDatabase>({
      dialect: new SqliteDialect({
        database: new CachedStatementDatabase(raw, options.statementCacheSize ?? 512),
      }),
    });

    const intervalMs = assertUint(options.checkpointIntervalMs ?? 250, 3_600_000, 'checkpointIntervalMs');
    if (intervalMs === 0) throw new StoreInvalidArgumentError('checkpointIntervalMs must be at least 1');
    this.#checkpointer =
      (options.backgroundCheckpoint ?? true) && options.filename !== ':memory:'
        ? new WalCheckpointer({ filename: options.filename, intervalMs }, options.onBackgroundError)
        : null;

    const kysely = this.#kysely;
    const isClosed = () => this.#closed;
    const inflight = this.#inflight;
    const ctx: StoreContext = {
      get db() {
        if (isClosed()) throw new StoreUnavailableError('sqlite store is closed');
        return kysely;
      },
      sql: sqliteDialect,
      shards: this.shards,
      passwordHashCost: passwordHashCost(options.passwordHashCost),
      now: options.clock ?? Date.now,
      transaction: (fn) => {
        if (isClosed()) return Promise.reject(new StoreUnavailableError('sqlite store is closed'));
        return inflight.track(() => immediateTransaction(kysely, fn));
      },
    };
    const writer = new MessageWriter(sqliteDialect, this.shards);
    const writeBatch = (saves: readonly ValidSave[]) =>
      ctx.transaction((trx) => writer.write(trx, saves, { precheck: true }));
    this.#coalescer =
      options.groupCommit === false ? null : new SaveCoalescer(writeBatch, { maxBatch: options.maxBatch });
    const coalescer = this.#coalescer;
    const repos = createRepositories(ctx, async (save) => {
      if (isClosed()) throw new StoreUnavailableError('sqlite store is closed');
      if (coalescer !== null) return coalescer.submit(save);
      const [result] = await writeBatch([save]);
      return result!;
    });
    this.users = repos.users;
    this.tokens = repos.tokens;
    this.messages = repos.messages;
    this.sessions = repos.sessions;
    this.receipts = repos.receipts;
    this.groups = repos.groups;
    this.devices = repos.devices;
    this.mutes = repos.mutes;
    this.contacts = repos.contacts;
    this.bots = repos.bots;
    this.schedules = repos.schedules;
  }

  async startCheckpointer(): Promise<void> {
    await this.#checkpointer?.start();
  }

  async migrate(): Promise<void> {
    if (this.#closed) throw new StoreUnavailableError('sqlite store is closed');
    await migrateToLatest({
      db: this.#kysely,
      dialect: 'sqlite',
      shards: this.shards,
      migrationsDir: this.#migrationsDir,
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    // Saves already queued still commit: their callers may be about to ack.
    await this.#coalescer?.drain();
    this.#closed = true;
    await this.#inflight.idle();
    await this.#checkpointer?.close();
    await this.#kysely.destroy();
  }
}

// Built once: these run on every transaction (one per group-commit batch).
const BEGIN_IMMEDIATE = CompiledQuery.raw('begin immediate');
const COMMIT = CompiledQuery.raw('commit');
const ROLLBACK = CompiledQuery.raw('rollback');

/**
 * BEGIN IMMEDIATE takes the write lock up front: a transaction that reads first and writes
 * later cannot then fail to upgrade (SQLITE_BUSY_SNAPSHOT) if another process wrote meanwhile.
 */
async function immediateTransaction<T>(kysely: Db, fn: (trx: Db) => Promise<T>): Promise<T> {
  return kysely.connection().execute(async (conn) => {
    await conn.executeQuery(BEGIN_IMMEDIATE);
    let result: T;
    try {
      result = await fn(conn);
    } catch (err) {
      await rollbackQuietly(conn);
      throw err;
    }
    try {
      await conn.executeQuery(COMMIT);
    } catch (err) {
      await rollbackQuietly(conn);
      throw err;
    }
    return result;
  });
}

async function rollbackQuietly(conn: Db): Promise<void> {
  try {
    await conn.executeQuery(ROLLBACK);
  } catch {
    // SQLite may already have rolled the transaction back itself (e.g. SQLITE_FULL); the
    // original error is the one worth reporting.
  }
}
