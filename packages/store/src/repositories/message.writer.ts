import { sql, type CompiledQuery } from 'kysely';
import { chunkRows, groupBy } from '../internal/chunk';
import { CompiledShapes } from '../internal/compiled-shapes';
import { readId } from '../internal/ids';
import { MultiRowInsert } from '../internal/multi-row-insert';
import { paddedSize } from '../internal/statement-sizes';
import { whenNewer, type SqlDialect } from '../internal/sql-dialect';
import { recvTable, sendTable, shardOf, type Db } from '../internal/store-context';
import { SessionType, type SaveResult } from '../message.port';
import { MessageIdConflictError } from '../store.errors';
import { sessionIdFor, type ValidSave } from './message.validation';

/**
 * Thrown inside a transaction when the outbox insert hit the (from_user_id, client_msg_id)
 * unique key: the caller rolls back and answers `'duplicate'`. Internal to the store.
 */
export class DuplicateSendSignal extends Error {
  override readonly name = 'DuplicateSendSignal';
}

export interface WriteOptions {
  /**
   * Look the batch's (sender, client id) pairs up before inserting, and resolve duplicates per
   * message. Required for batches of more than one message (one duplicate must not fail the
   * others); a single message may skip it and rely on the unique key (`DuplicateSendSignal`).
   */
  readonly precheck: boolean;
}

type Tuple = readonly unknown[];

// Bytes of a row besides its blob and attach, for statement-size budgeting.
const ROW_OVERHEAD = 160;

const SEND_COLUMNS = [
  'server_msg_id',
  'client_msg_id',
  'from_user_id',
  'session_type',
  'to_session_id',
  'msg_type',
  'msg_data',
  'attach',
  'sender_client_type',
  'msg_status',
  'create_time',
];
const RECV_COLUMNS = [
  'owner_user_id',
  'session_type',
  'session_id',
  'server_msg_id',
  'client_msg_id',
  'from_user_id',
  'msg_type',
  'msg_data',
  'attach',
  'sender_client_type',
  'msg_status',
  'create_time',
];
const SESSION_COLUMNS = [
  'owner_user_id',
  'session_type',
  'session_id',
  'status',
  'unread_cnt',
  'read_up_to',
  'last_server_msg_id',
  'last_client_msg_id',
  'last_from_user_id',
  'last_msg_type',
  'last_msg_data',
  'last_attach',
  'last_msg_status',
  'last_create_time',
  'updated_time',
];
const CONVERSATION_COLUMNS = ['session_type', 'peer_lo', 'peer_hi', 'max_server_msg_id', 'updated_time'];

/**
 * Writes batches of validated messages inside the caller's transaction: outbox rows, timeline
 * rows, session upserts, conversation max ids. Rows are sorted by primary key before insertion
 * so concurrent transactions take InnoDB locks in the same order (fewer deadlocks).
 */
export class MessageWriter {
  readonly #send: MultiRowInsert;
  readonly #recv: MultiRowInsert;
  readonly #session: MultiRowInsert;
  readonly #conversation: MultiRowInsert;
  readonly #precheck = new CompiledShapes();

  constructor(
    private readonly dialect: SqlDialect,
    private readonly shards: number,
  ) {
    this.#send = new MultiRowInsert(SEND_COLUMNS);
    this.#recv = new MultiRowInsert(RECV_COLUMNS);
    this.#session = new MultiRowInsert(SESSION_COLUMNS, sessionUpsert(dialect));
    this.#conversation = new MultiRowInsert(
      CONVERSATION_COLUMNS,
      dialect.upsert(
        ['session_type', 'peer_lo', 'peer_hi'],
        [
          ['updated_time', dialect.greatest(sql.ref('updated_time'), dialect.incoming('updated_time'))],
          [
            'max_server_msg_id',
            dialect.greatest(sql.ref('max_server_msg_id'), dialect.incoming('max_server_msg_id')),
          ],
        ],
      ),
    );
  }

  /** Returns one result per input, in order. */
  async write(trx: Db, batch: readonly ValidSave[], options: WriteOptions): Promise<SaveResult[]> {
    const results: SaveResult[] = batch.map(() => 'inserted');
    const firstByKey = new Map<string, number>();
    batch.forEach((m, i) => {
      const key = `${m.fromUserId}:${m.clientMsgId}`;
      if (firstByKey.has(key)) results[i] = 'duplicate';
      else firstByKey.set(key, i);
    });
    if (options.precheck) {
      for (const existing of await this.#findExistingSends(trx, batch)) {
        const i = firstByKey.get(existing);
        if (i !== undefined) results[i] = 'duplicate';
      }
    }
    const accepted = batch.filter((_, i) => results[i] === 'inserted');
    if (accepted.length === 0) return results;

    await this.#insertSends(trx, accepted);
    await this.#insertTimelines(trx, accepted);
    await this.#upsertSessions(trx, accepted);
    await this.#upsertConversations(trx, accepted);
    return results;
  }

  /**
   * What `write` would do to a batch without a precheck, as statements to run elsewhere (the MySQL
   * store sends them as one round trip). A stored duplicate then fails the insert and the whole
   * transaction; the caller falls back to `write` with a precheck.
   */
  async plan(
    db: Db,
    batch: readonly ValidSave[],
  ): Promise<{ results: SaveResult[]; statements: CompiledQuery[] }> {
    const statements: CompiledQuery[] = [];
    const recorder = new Proxy(db, {
      get(target, prop) {
        if (prop === 'executeQuery')
          return (query: CompiledQuery) => {
            statements.push(query);
            return Promise.resolve({ rows: [] });
          };
        // Bound to the real instance: Kysely keeps its state in private fields.
        const value = Reflect.get(target, prop, target) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const results = await this.write(recorder, batch, { precheck: false });
    return { results, statements };
  }

  async #findExistingSends(trx: Db, batch: readonly ValidSave[]): Promise<string[]> {
    const found: string[] = [];
    for (const group of groupBy(batch, (m) => shardOf(m.fromUserId, this.shards)).values()) {
      const maxRows = Math.floor(this.dialect.maxParams / 2);
      for (const chunk of chunkRows(group, { maxParams: this.dialect.maxParams, columns: 2 })) {
        const table = sendTable(chunk[0]!.fromUserId, this.shards);
        // Padded with the last key to a fixed size: a repeated key finds nothing new, and the
        // statement's shapes stay few (statement-sizes.ts).
        const size = paddedSize(chunk.length, maxRows);
        const keys: (readonly [number, string])[] = new Array(size);
        for (let i = 0; i < size; i++) {
          const m = chunk[Math.min(i, chunk.length - 1)]!;
          keys[i] = [m.fromUserId, m.clientMsgId];
        }
        const rows = await this.#precheck.execute(trx, `${table}:${size}`, keys.flat(), () =>
          trx
            .selectFrom(table)
            .select(['from_user_id', 'client_msg_id'])
            .where(this.dialect.rowIn(['from_user_id', 'client_msg_id'], keys)),
        );
        for (const r of rows) found.push(`${readId(r.from_user_id, 'from_user_id')}:${r.client_msg_id}`);
      }
    }
    return found;
  }

  async #insertSends(trx: Db, batch: readonly ValidSave[]): Promise<void> {
    for (const group of groupBy(batch, (m) => shardOf(m.fromUserId, this.shards)).values()) {
      const table = sendTable(group[0]!.fromUserId, this.shards);
      const rows: Tuple[] = group.map((m) => [
        m.serverMsgId,
        m.clientMsgId,
        m.fromUserId,
        m.sessionType,
        m.toSessionId,
        m.msgType,
        m.msgData,
        m.attach,
        m.senderClientType,
        m.msgStatus,
        m.createTime,
      ]);
      for (const chunk of this.#chunks(rows, SEND_COLUMNS.length, 6, 7)) {
        try {
          await this.#send.execute(trx, table, chunk);
        } catch (err) {
          if (this.dialect.isUniqueViolation(err)) {
            throw new DuplicateSendSignal('duplicate client_msg_id', { cause: err });
          }
          throw err;
        }
      }
    }
  }

  async #insertTimelines(trx: Db, batch: readonly ValidSave[]): Promise<void> {
    const rows: Tuple[] = [];
    for (const m of batch) {
      for (const owner of m.owners) {
        rows.push([
          owner,
          m.sessionType,
          sessionIdFor(m, owner),
          m.serverMsgId,
          m.clientMsgId,
          m.fromUserId,
          m.msgType,
          m.msgData,
          m.attach,
          m.senderClientType,
          m.msgStatus,
          m.createTime,
        ]);
      }
    }
    rows.sort(compareKey(4));
    for (const group of groupBy(rows, (r) => shardOf(r[0] as number, this.shards)).values()) {
      const table = recvTable(group[0]![0] as number, this.shards);
      for (const chunk of this.#chunks(group, RECV_COLUMNS.length, 7, 8)) {
        try {
          await this.#recv.execute(trx, table, chunk);
        } catch (err) {
          if (this.dialect.isUniqueViolation(err)) {
            throw new MessageIdConflictError(
              'a timeline already holds this server_msg_id in this conversation: the id counter went backwards',
              { cause: err },
            );
          }
          throw err;
        }
      }
    }
  }

  async #upsertSessions(trx: Db, batch: readonly ValidSave[]): Promise<void> {
    const rows: Tuple[] = [];
    for (const m of batch) {
      for (const owner of m.owners) {
        rows.push([
          owner,
          m.sessionType,
          sessionIdFor(m, owner),
          1,
          // On insert this is the count; on conflict it is the increment (see sessionUpsert).
          owner === m.fromUserId ? 0 : 1,
          0,
          m.serverMsgId,
          m.clientMsgId,
          m.fromUserId,
          m.msgType,
          m.msgData,
          m.attach,
          m.msgStatus,
          m.createTime,
          m.createTime,
        ]);
      }
    }
    // Stable sort: rows of one session keep batch order; the upsert guard handles any order.
    rows.sort(compareKey(3));
    for (const chunk of this.#chunks(rows, SESSION_COLUMNS.length, 10, 11)) {
      await this.#session.execute(trx, 'im_session', chunk);
    }
  }

  async #upsertConversations(trx: Db, batch: readonly ValidSave[]): Promise<void> {
    const byKey = new Map<string, Tuple>();
    for (const m of batch) {
      const [lo, hi] =
        m.sessionType === SessionType.GROUP
          ? [m.toSessionId, 0]
          : [Math.min(m.fromUserId, m.toSessionId), Math.max(m.fromUserId, m.toSessionId)];
      const key = `${m.sessionType}:${lo}:${hi}`;
      const prev = byKey.get(key);
      if (prev === undefined || (prev[3] as number) < m.serverMsgId) {
        byKey.set(key, [m.sessionType, lo, hi, m.serverMsgId, m.createTime]);
      }
    }
    const rows = [...byKey.values()].sort(compareKey(3));
    for (const chunk of this.#chunks(rows, CONVERSATION_COLUMNS.length)) {
      await this.#conversation.execute(trx, 'im_conversation', chunk);
    }
  }

  /** Chunks rows for the placeholder limit and for the packet size (blob and attach columns). */
  #chunks(rows: Tuple[], columns: number, blobAt?: number, attachAt?: number): Tuple[][] {
    return chunkRows(rows, { maxParams: this.dialect.maxParams, columns }, (row) =>
      blobAt === undefined
        ? ROW_OVERHEAD
        : ROW_OVERHEAD + (row[blobAt] as Buffer).byteLength + (row[attachAt!] as string).length * 3,
    );
  }
}

/**
 * The session upsert: count unread, keep the newest message as the last one, never move back.
 */
function sessionUpsert(dialect: SqlDialect) {
  const guard = 'last_server_msg_id';
  const newer = (column: string) => whenNewer(dialect, guard, column);
  return dialect.upsert(
    ['owner_user_id', 'session_type', 'session_id'],
    [
      // A message the owner already read past (out-of-order save after a read) is not unread.
      [
        'unread_cnt',
        sql`${sql.ref('unread_cnt')} + case when ${dialect.incoming(guard)} > ${sql.ref('read_up_to')} then ${dialect.incoming('unread_cnt')} else 0 end`,
      ],
      ['last_client_msg_id', newer('last_client_msg_id')],
      ['last_from_user_id', newer('last_from_user_id')],
      ['last_msg_type', newer('last_msg_type')],
      ['last_msg_data', newer('last_msg_data')],
      ['last_attach', newer('last_attach')],
      ['last_msg_status', newer('last_msg_status')],
      ['last_create_time', newer('last_create_time')],
      ['updated_time', dialect.greatest(sql.ref('updated_time'), dialect.incoming('updated_time'))],
      // A new message brings a deleted session back.
      ['status', sql`1`],
      // Last: the assignments above compare against the old value (MySQL assigns left to right).
      [guard, dialect.greatest(sql.ref(guard), dialect.incoming(guard))],
    ],
  );
}

/** Orders tuples by their first `n` (numeric) values: the primary key. */
function compareKey(n: number): (a: Tuple, b: Tuple) => number {
  return (a, b) => {
    for (let i = 0; i < n; i++) {
      const d = (a[i] as number) - (b[i] as number);
      if (d !== 0) return d;
    }
    return 0;
  };
}
