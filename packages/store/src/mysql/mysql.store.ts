import { Kysely, MysqlDialect } from 'kysely';
import { createPool } from 'mysql2';
import type { StoreDatabase } from '../internal/database.types';
import { InflightTracker } from '../internal/inflight';
import { DEFAULT_SHARDS, assertShardCount } from '../internal/shards';
import { passwordHashCost } from '../internal/password-hash';
import { errorCode, mysqlDialect } from '../internal/sql-dialect';
import type { Db, StoreContext } from '../internal/store-context';
import { checkShardCount, migrateToLatest } from '../migration/migrate';
import { DEFAULT_MIGRATIONS_DIR } from '../migration/sql-migration.provider';
import { DuplicateSendSignal, MessageWriter } from '../repositories/message.writer';
import type { ValidSave } from '../repositories/message.validation';
import { createRepositories } from '../repositories/repositories';
import { SaveCoalescer } from '../internal/save.coalescer';
import type { SaveResult } from '../message.port';
import { StoreUnavailableError } from '../store.errors';
import type { Store } from '../store.port';
import { mapMysqlError } from './mysql-errors';
import { OneTripTransaction } from './one-trip.transaction';
import { preparedPool } from './prepared.pool';

export interface MysqlStoreOptions {
  /** `mysql://user:password@host:port/database`; the database must exist. */
  readonly uri: string;
  /**
   * n in `im_message_send_{k}` / `im_message_recv_{k}`; must match the database's.
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
   * Pool size.
   * @default 10
   */
  readonly connectionLimit?: number;
  /**
   * Run parameterised statements as server-side prepared statements (`execute`).
   * @default true
   */
  readonly preparedStatements?: boolean;
  /**
   * Prepared statements cached per connection (LRU); bounds the server's statement count at
   * `connectionLimit × maxPreparedStatements` (MySQL's max_prepared_stmt_count defaults to 16,382).
   * @default 256
   */
  readonly maxPreparedStatements?: number;
  /**
   * @default 10000
   */
  readonly connectTimeoutMs?: number;
  /**
   * Coalesce concurrent `messages.save()` calls into one transaction (group commit): a batch
   * shares its round trips and its redo-log flush. A duplicate racing in from another process
   * fails the batch, which is then retried one message per transaction.
   * @default true
   */
  readonly groupCommit?: boolean;
  /**
   * Most messages per group-commit transaction.
   * @default 256
   */
  readonly maxBatch?: number;
  /**
   * Send a group commit's statements as one multi-statement round trip (a second, small pool with
   * `multipleStatements`); see OneTripTransaction.
   * @default true
   */
  readonly oneTripWrites?: boolean;
  /**
   * How often a transaction chosen as a deadlock victim is re-run before the error surfaces.
   * @default 3
   */
  readonly deadlockRetries?: number;
  /**
   * Where `mysql/NNNN_*.sql` migrations live.
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
 * Creates a MySQL / MariaDB store. Connects once to check that the database is reachable and,
 * if it is already migrated, that its shard count matches (`StoreSchemaError` otherwise); an
 * unmigrated database is fine: `migrate()` creates the schema (`mqim migrate`).
 * Rejects with `StoreUnavailableError` when the server cannot be reached.
 */
export async function createMysqlStore(options: MysqlStoreOptions): Promise<Store> {
  const store = new MysqlStore(options);
  try {
    await store.checkSchemaIfPresent();
  } catch (err) {
    await store.close();
    throw err;
  }
  return store;
}

class MysqlStore implements Store {
  readonly dialect = 'mysql' as const;
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
  readonly #inflight = new InflightTracker();
  readonly #coalescer: SaveCoalescer | null;
  readonly #oneTrip: OneTripTransaction | null;
  #closed = false;

  constructor(options: MysqlStoreOptions) {
    this.shards = assertShardCount(options.shards ?? DEFAULT_SHARDS);
    this.#migrationsDir = options.migrationsDir ?? DEFAULT_MIGRATIONS_DIR;
    const pool = createPool({
      uri: options.uri,
      connectionLimit: options.connectionLimit ?? 10,
      connectTimeout: options.connectTimeoutMs ?? 10_000,
      maxPreparedStatements: options.maxPreparedStatements ?? 256,
      // BIGINT UNSIGNED comes back as a number while safe, as a string beyond (never rounded);
      // readId() then rejects the string.
      supportBigNumbers: true,
      bigNumberStrings: false,
      charset: 'utf8mb4_unicode_ci',
      enableKeepAlive: true,
      waitForConnections: true,
    });
    this.#kysely = new Kysely<StoreDatabase>({
      dialect: new MysqlDialect({
        pool: preparedPool(pool, { prepared: options.preparedStatements ?? true }),
      }),
    });

    const kysely = this.#kysely;
    const isClosed = () => this.#closed;
    const inflight = this.#inflight;
    const retries = options.deadlockRetries ?? 3;
    const ctx: StoreContext = {
      get db() {
        if (isClosed()) throw new StoreUnavailableError('mysql store is closed');
        return kysely;
      },
      sql: mysqlDialect,
      shards: this.shards,
      passwordHashCost: passwordHashCost(options.passwordHashCost),
      now: options.clock ?? Date.now,
      transaction: (fn) => {
        if (isClosed()) return Promise.reject(new StoreUnavailableError('mysql store is closed'));
        return inflight.track(() => retryDeadlocks(() => kysely.transaction().execute(fn), retries));
      },
    };
    const writer = new MessageWriter(mysqlDialect, this.shards);
    const oneTrip =
      options.oneTripWrites === false
        ? null
        : new OneTripTransaction({
            uri: options.uri,
            connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
            // Big-group messages (thousands of rows) gain little from one trip and cost more to escape
            // than to bind: a 5,000-member message (~2.6 MB of text) goes the long way.
            maxBytes: 1024 * 1024,
            queryTimeoutMs: 30_000,
          });
    this.#oneTrip = oneTrip;
    const writeBatch = async (saves: readonly ValidSave[]): Promise<SaveResult[]> => {
      if (oneTrip !== null) {
        const fast = await inflight.track(() => writeInOneTrip(oneTrip, writer, kysely, saves));
        if (fast !== undefined) return fast;
      }
      try {
        // Alone, a save relies on the unique key (one round trip less); in a batch, duplicates
        // are looked up first so that one of them does not fail the others.
        return await ctx.transaction((trx) => writer.write(trx, saves, { precheck: saves.length > 1 }));
      } catch (err) {
        if (err instanceof DuplicateSendSignal && saves.length === 1) return ['duplicate'];
        throw err;
      }
    };
    this.#coalescer =
      options.groupCommit === false
        ? null
        : new SaveCoalescer(writeBatch, { maxBatch: options.maxBatch ?? 256 });
    const coalescer = this.#coalescer;
    const repos = createRepositories(ctx, async (save) => {
      if (isClosed()) throw new StoreUnavailableError('mysql store is closed');
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

  async migrate(): Promise<void> {
    if (this.#closed) throw new StoreUnavailableError('mysql store is closed');
    await this.#inflight.track(() =>
      migrateToLatest({
        db: this.#kysely,
        dialect: 'mysql',
        shards: this.shards,
        migrationsDir: this.#migrationsDir,
      }),
    );
  }

  /** @internal */
  async checkSchemaIfPresent(): Promise<void> {
    try {
      await checkShardCount(this.#kysely, this.shards);
    } catch (err) {
      if (errorCode(err) === 'ER_NO_SUCH_TABLE') return;
      throw mapMysqlError(err);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    // Saves already queued still commit: their callers may be about to ack.
    await this.#coalescer?.drain();
    this.#closed = true;
    await this.#inflight.idle();
    try {
      await this.#kysely.destroy();
    } finally {
      await this.#oneTrip?.close();
    }
  }
}

/**
 * A group commit in one round trip (OneTripTransaction); undefined when it must go the long way:
 * too big for one packet, or it failed (a stored duplicate, a deadlock, an id conflict), in which
 * case nothing of it was stored and the long way (precheck, statement by statement, deadlock
 * retries, errors classified per statement) decides each message's result.
 */
async function writeInOneTrip(
  oneTrip: OneTripTransaction,
  writer: MessageWriter,
  db: Db,
  saves: readonly ValidSave[],
): Promise<SaveResult[] | undefined> {
  const { results, statements } = await writer.plan(db, saves);
  if (statements.length === 0) return results;
  const text = oneTrip.text(statements);
  if (text === undefined) return undefined;
  try {
    await oneTrip.run(text);
    return results;
  } catch (err) {
    // Unreachable (or the answer lost, StoreOutcomeUnknownError): the long way would fail too.
    if (err instanceof StoreUnavailableError) throw err;
    return undefined;
  }
}

async function retryDeadlocks<T>(run: () => Promise<T>, retries: number): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await run();
    } catch (err) {
      // InnoDB rolled the whole transaction back: re-running it from the start is safe.
      if (errorCode(err) !== 'ER_LOCK_DEADLOCK' || attempt >= retries) throw err;
    }
  }
}
