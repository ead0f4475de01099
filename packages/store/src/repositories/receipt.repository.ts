import { sql } from 'kysely';
import { chunkRows } from '../internal/chunk';
import { assertId, readInt, readId } from '../internal/ids';
import { MultiRowInsert } from '../internal/multi-row-insert';
import type { StoreContext } from '../internal/store-context';
import type { SessionType } from '../message.port';
import type { AckTimeRecord, DeliveredReceipt, ReceiptRepository } from '../receipt.port';
import { StoreInvalidArgumentError } from '../store.errors';
import { assertSessionType } from './message.validation';

const ACK_TIME_COLUMNS = [
  'owner_user_id',
  'session_type',
  'session_id',
  'delivered_msg_id',
  'delivered_at_ms',
  'read_msg_id',
  'read_at_ms',
];

export class KyselyReceiptRepository implements ReceiptRepository {
  // The job flushes one of these every second: the SQL is compiled once per row count.
  private readonly delivered: MultiRowInsert;

  constructor(private readonly ctx: StoreContext) {
    const d = ctx.sql;
    this.delivered = new MultiRowInsert(
      ACK_TIME_COLUMNS,
      d.upsert(
        ['owner_user_id', 'session_type', 'session_id'],
        [
          // Before delivered_msg_id, which it compares against (MySQL assigns left to right).
          [
            'delivered_at_ms',
            sql`case when ${d.incoming('delivered_msg_id')} > ${sql.ref('delivered_msg_id')} then ${d.incoming('delivered_at_ms')} else ${sql.ref('delivered_at_ms')} end`,
          ],
          ['delivered_msg_id', d.greatest(sql.ref('delivered_msg_id'), d.incoming('delivered_msg_id'))],
        ],
      ),
    );
  }

  async recordDelivered(entries: readonly DeliveredReceipt[]): Promise<void> {
    // Fold per session first: fewer rows, and one row per key keeps each statement unambiguous.
    const newest = new Map<string, DeliveredReceipt>();
    for (const e of entries) {
      assertId(e.ownerUserId, 'ownerUserId');
      assertSessionType(e.sessionType);
      assertId(e.sessionId, 'sessionId');
      assertId(e.msgId, 'msgId');
      if (!Number.isSafeInteger(e.atMs) || e.atMs < 0)
        throw new StoreInvalidArgumentError('atMs must be Unix ms');
      const key = `${e.ownerUserId}:${e.sessionType}:${e.sessionId}`;
      const prev = newest.get(key);
      if (prev === undefined || prev.msgId < e.msgId) newest.set(key, e);
    }
    if (newest.size === 0) return;
    const rows = [...newest.values()]
      .sort(
        (a, b) => a.ownerUserId - b.ownerUserId || a.sessionType - b.sessionType || a.sessionId - b.sessionId,
      )
      .map((e) => [e.ownerUserId, e.sessionType, e.sessionId, e.msgId, e.atMs, 0, 0]);
    const chunks = chunkRows(rows, { maxParams: this.ctx.sql.maxParams, columns: ACK_TIME_COLUMNS.length });
    const write = async (db: typeof this.ctx.db) => {
      for (const chunk of chunks) await this.delivered.execute(db, 'im_ack_time', chunk);
    };
    if (chunks.length === 1) await write(this.ctx.db);
    else await this.ctx.transaction(write);
  }

  async get(ownerUserId: number, sessionType: SessionType, sessionId: number): Promise<AckTimeRecord | null> {
    const row = await this.ctx.db
      .selectFrom('im_ack_time')
      .select(['delivered_msg_id', 'delivered_at_ms', 'read_msg_id', 'read_at_ms'])
      .where('owner_user_id', '=', assertId(ownerUserId, 'ownerUserId'))
      .where('session_type', '=', assertSessionType(sessionType))
      .where('session_id', '=', assertId(sessionId, 'sessionId'))
      .executeTakeFirst();
    if (!row) return null;
    return {
      deliveredMsgId: readId(row.delivered_msg_id, 'delivered_msg_id'),
      deliveredAtMs: readInt(row.delivered_at_ms, 'delivered_at_ms'),
      readMsgId: readId(row.read_msg_id, 'read_msg_id'),
      readAtMs: readInt(row.read_at_ms, 'read_at_ms'),
    };
  }
}
