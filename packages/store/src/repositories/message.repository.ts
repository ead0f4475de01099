import { CompiledShapes } from '../internal/compiled-shapes';
import { assertId, assertIdOrZero, assertUint, readInt, readId } from '../internal/ids';
import { recvTable, sendTable, type StoreContext } from '../internal/store-context';
import {
  SessionType,
  RECALLED_MSG_STATUS,
  type AfterQuery,
  type ConversationRef,
  type HistoryQuery,
  type RecallMark,
  type MessageRecord,
  type MessageRepository,
  type NewMessage,
  type SaveResult,
} from '../message.port';
import { StoreInvalidArgumentError } from '../store.errors';
import { assertClientMsgId, assertSessionType, validateSave, type ValidSave } from './message.validation';

/** How a concrete store persists a validated message (group commit, plain transaction...). */
export type SaveExecutor = (save: ValidSave) => Promise<SaveResult>;

const TIMELINE_COLUMNS = [
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
] as const;

/** Most rows one history page may ask for; callers cap far lower (the protocol suggests 100). */
const MAX_PAGE = 10_000;
/** Most client ids one `findByClientIds` call may ask for. */
const MAX_CLIENT_IDS = 1_000;

export class KyselyMessageRepository implements MessageRepository {
  // findSent (every send), history, latest and maxServerMsgId: compiled once per table / shape.
  // A TS-private field, not #private: callers (tests) wrap repositories with Object.create.
  private readonly shapes = new CompiledShapes();

  constructor(
    private readonly ctx: StoreContext,
    private readonly executeSave: SaveExecutor,
  ) {}

  async findSent(fromUserId: number, clientMsgId: string): Promise<MessageRecord | null> {
    assertId(fromUserId, 'fromUserId');
    assertClientMsgId(clientMsgId);
    const db = this.ctx.db;
    const table = sendTable(fromUserId, this.ctx.shards);
    const [row] = await this.shapes.execute(db, `findSent:${table}`, [fromUserId, clientMsgId], () =>
      db
        .selectFrom(table)
        .select([
          'session_type',
          'to_session_id',
          'server_msg_id',
          'client_msg_id',
          'from_user_id',
          'msg_type',
          'msg_data',
          'attach',
          'sender_client_type',
          'msg_status',
          'create_time',
        ])
        .where('from_user_id', '=', fromUserId)
        .where('client_msg_id', '=', clientMsgId),
    );
    if (!row) return null;
    return {
      serverMsgId: readId(row.server_msg_id, 'server_msg_id'),
      clientMsgId: row.client_msg_id,
      fromUserId: readId(row.from_user_id, 'from_user_id'),
      sessionType: assertSessionType(readInt(row.session_type, 'session_type')),
      toSessionId: readId(row.to_session_id, 'to_session_id'),
      msgType: readInt(row.msg_type, 'msg_type'),
      msgData: row.msg_data,
      attach: row.attach,
      senderClientType: readInt(row.sender_client_type, 'sender_client_type'),
      msgStatus: readInt(row.msg_status, 'msg_status'),
      createTime: readInt(row.create_time, 'create_time'),
    };
  }

  async maxServerMsgId(conversation: ConversationRef): Promise<number> {
    const key = conversationKeyOf(conversation);
    const db = this.ctx.db;
    const [row] = await this.shapes.execute(db, 'maxServerMsgId', key, () =>
      db
        .selectFrom('im_conversation')
        .select('max_server_msg_id')
        .where('session_type', '=', key[0])
        .where('peer_lo', '=', key[1])
        .where('peer_hi', '=', key[2]),
    );
    return row ? readId(row.max_server_msg_id, 'max_server_msg_id') : 0;
  }

  save(message: NewMessage, owners: readonly number[]): Promise<SaveResult> {
    let valid: ValidSave;
    try {
      valid = validateSave(message, owners);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.executeSave(valid);
  }

  async history(
    ownerUserId: number,
    sessionType: SessionType,
    sessionId: number,
    query: HistoryQuery,
  ): Promise<MessageRecord[]> {
    const before = assertIdOrZero(query.beforeMsgId ?? 0, 'beforeMsgId');
    const limit = assertUint(query.limit, MAX_PAGE, 'limit');
    if (limit === 0) throw new StoreInvalidArgumentError('limit must be at least 1');
    // Newest-first range scan on the primary key, reversed: the page is the `limit` messages
    // just below `before`, returned ascending.
    assertTimeline(ownerUserId, sessionType, sessionId);
    const db = this.ctx.db;
    const table = recvTable(ownerUserId, this.ctx.shards);
    const parameters =
      before > 0
        ? [ownerUserId, sessionType, sessionId, before, limit]
        : [ownerUserId, sessionType, sessionId, limit];
    const rows = await this.shapes.execute(db, `history:${table}:${before > 0}`, parameters, () =>
      this.timeline(ownerUserId, sessionType, sessionId)
        .$if(before > 0, (qb) => qb.where('server_msg_id', '<', before))
        .orderBy('server_msg_id', 'desc')
        .limit(limit),
    );
    return this.withRecalls(
      ownerUserId,
      sessionType,
      sessionId,
      rows.reverse().map((r) => toMessage(ownerUserId, r)),
    );
  }

  async after(
    ownerUserId: number,
    sessionType: SessionType,
    sessionId: number,
    query: AfterQuery,
  ): Promise<MessageRecord[]> {
    const after = assertIdOrZero(query.afterMsgId, 'afterMsgId');
    const limit = assertUint(query.limit, MAX_PAGE, 'limit');
    if (limit === 0) throw new StoreInvalidArgumentError('limit must be at least 1');
    assertTimeline(ownerUserId, sessionType, sessionId);
    const db = this.ctx.db;
    const table = recvTable(ownerUserId, this.ctx.shards);
    // An ascending range scan of the primary key from `after`: the owner's whole timeline lives in
    // one shard (recv tables are sharded by owner), so a page is one index range on one table.
    const rows = await this.shapes.execute(
      db,
      `after:${table}`,
      [ownerUserId, sessionType, sessionId, after, limit],
      () =>
        this.timeline(ownerUserId, sessionType, sessionId)
          .where('server_msg_id', '>', after)
          .orderBy('server_msg_id', 'asc')
          .limit(limit),
    );
    return this.withRecalls(
      ownerUserId,
      sessionType,
      sessionId,
      rows.map((r) => toMessage(ownerUserId, r)),
    );
  }

  async get(
    ownerUserId: number,
    sessionType: SessionType,
    sessionId: number,
    serverMsgId: number,
  ): Promise<MessageRecord | null> {
    assertId(serverMsgId, 'serverMsgId');
    const rows = await this.timeline(ownerUserId, sessionType, sessionId)
      .where('server_msg_id', '=', serverMsgId)
      .execute();
    const [m] = await this.withRecalls(
      ownerUserId,
      sessionType,
      sessionId,
      rows.map((r) => toMessage(ownerUserId, r)),
    );
    return m ?? null;
  }

  async recall(
    conversation: ConversationRef,
    serverMsgId: number,
    mark: RecallMark,
  ): Promise<RecallMark & { readonly inserted: boolean }> {
    const [type, lo, hi] = conversationKeyOf(conversation);
    assertId(serverMsgId, 'serverMsgId');
    assertId(mark.recalledBy, 'recalledBy');
    const recalledAt = assertUint(mark.recalledAt, 0xffff_ffff, 'recalledAt');
    const key = { session_type: type, peer_lo: lo, peer_hi: hi, server_msg_id: serverMsgId };
    try {
      await this.ctx.db
        .insertInto('im_message_recall')
        .values({ ...key, recalled_by: mark.recalledBy, recalled_at: recalledAt })
        .execute();
      return { recalledBy: mark.recalledBy, recalledAt, inserted: true };
    } catch (err) {
      if (!this.ctx.sql.isUniqueViolation(err)) throw err;
    }
    // Recalled before (a retry, or a second recaller): the first mark stands.
    const row = await this.ctx.db
      .selectFrom('im_message_recall')
      .select(['recalled_by', 'recalled_at'])
      .where('session_type', '=', type)
      .where('peer_lo', '=', lo)
      .where('peer_hi', '=', hi)
      .where('server_msg_id', '=', serverMsgId)
      .executeTakeFirstOrThrow();
    return {
      recalledBy: readId(row.recalled_by, 'recalled_by'),
      recalledAt: readInt(row.recalled_at, 'recalled_at'),
      inserted: false,
    };
  }

  /**
   * Marks the recalled ones of `msgs` (one conversation, ascending): one primary-key range read of
   * `im_message_recall` over the page's ids, skipped for an empty page.
   */
  private async withRecalls(
    ownerUserId: number,
    sessionType: SessionType,
    sessionId: number,
    msgs: MessageRecord[],
  ): Promise<MessageRecord[]> {
    if (msgs.length === 0) return msgs;
    const [type, lo, hi] =
      sessionType === SessionType.GROUP
        ? [SessionType.GROUP, sessionId, 0]
        : [SessionType.SINGLE, Math.min(ownerUserId, sessionId), Math.max(ownerUserId, sessionId)];
    const first = msgs[0]!.serverMsgId;
    const last = msgs[msgs.length - 1]!.serverMsgId;
    const db = this.ctx.db;
    const rows = await this.shapes.execute(db, 'recalls', [type, lo, hi, first, last], () =>
      db
        .selectFrom('im_message_recall')
        .select(['server_msg_id', 'recalled_by', 'recalled_at'])
        .where('session_type', '=', type)
        .where('peer_lo', '=', lo)
        .where('peer_hi', '=', hi)
        .where('server_msg_id', '>=', first)
        .where('server_msg_id', '<=', last),
    );
    if (rows.length === 0) return msgs;
    const marks = new Map<number, RecallMark>(
      rows.map((r) => [
        readId(r.server_msg_id, 'server_msg_id'),
        {
          recalledBy: readId(r.recalled_by, 'recalled_by'),
          recalledAt: readInt(r.recalled_at, 'recalled_at'),
        },
      ]),
    );
    return msgs.map((m) => {
      const mark = marks.get(m.serverMsgId);
      return mark ? { ...m, msgStatus: RECALLED_MSG_STATUS, msgData: EMPTY, attach: '', recalled: mark } : m;
    });
  }

  async findByClientIds(
    ownerUserId: number,
    sessionType: SessionType,
    sessionId: number,
    clientMsgIds: readonly string[],
  ): Promise<MessageRecord[]> {
    const ids = [...new Set(clientMsgIds.map(assertClientMsgId))];
    if (ids.length === 0) return [];
    if (ids.length > MAX_CLIENT_IDS)
      throw new StoreInvalidArgumentError(`at most ${MAX_CLIENT_IDS} client ids`);
    // Scans this one conversation's slice of the primary key (no index on client_msg_id: it would
    // cost every timeline write, for a rarely used request).
    const rows = await this.timeline(ownerUserId, sessionType, sessionId)
      .where('client_msg_id', 'in', ids)
      .orderBy('server_msg_id', 'asc')
      .execute();
    return this.withRecalls(
      ownerUserId,
      sessionType,
      sessionId,
      rows.map((r) => toMessage(ownerUserId, r)),
    );
  }

  async latest(
    ownerUserId: number,
    sessionType: SessionType,
    sessionId: number,
  ): Promise<MessageRecord | null> {
    assertTimeline(ownerUserId, sessionType, sessionId);
    const db = this.ctx.db;
    const table = recvTable(ownerUserId, this.ctx.shards);
    const [row] = await this.shapes.execute(
      db,
      `latest:${table}`,
      [ownerUserId, sessionType, sessionId, 1],
      () => this.timeline(ownerUserId, sessionType, sessionId).orderBy('server_msg_id', 'desc').limit(1),
    );
    if (!row) return null;
    const [m] = await this.withRecalls(ownerUserId, sessionType, sessionId, [toMessage(ownerUserId, row)]);
    return m!;
  }

  private timeline(ownerUserId: number, sessionType: SessionType, sessionId: number) {
    assertTimeline(ownerUserId, sessionType, sessionId);
    return this.ctx.db
      .selectFrom(recvTable(ownerUserId, this.ctx.shards))
      .select(TIMELINE_COLUMNS)
      .where('owner_user_id', '=', ownerUserId)
      .where('session_type', '=', sessionType)
      .where('session_id', '=', sessionId);
  }
}

const EMPTY = Buffer.alloc(0);

/** `im_conversation`'s key of a conversation: (type, lower peer, higher peer or 0 for a group). */
function conversationKeyOf(conversation: ConversationRef): [number, number, number] {
  if (conversation.type === SessionType.GROUP)
    return [SessionType.GROUP, assertId(conversation.groupId, 'groupId'), 0];
  if (conversation.type === SessionType.SINGLE) {
    const a = assertId(conversation.a, 'a');
    const b = assertId(conversation.b, 'b');
    return [SessionType.SINGLE, Math.min(a, b), Math.max(a, b)];
  }
  throw new StoreInvalidArgumentError('conversation type must be 1 or 2');
}

function assertTimeline(ownerUserId: number, sessionType: SessionType, sessionId: number): void {
  assertId(ownerUserId, 'ownerUserId');
  assertSessionType(sessionType);
  assertId(sessionId, 'sessionId');
}

type TimelineRow = {
  session_type: unknown;
  session_id: unknown;
  server_msg_id: unknown;
  client_msg_id: string;
  from_user_id: unknown;
  msg_type: unknown;
  msg_data: Buffer;
  attach: string;
  sender_client_type: unknown;
  msg_status: unknown;
  create_time: unknown;
};

function toMessage(ownerUserId: number, row: TimelineRow): MessageRecord {
  const sessionType = assertSessionType(readInt(row.session_type, 'session_type'));
  const sessionId = readId(row.session_id, 'session_id');
  const fromUserId = readId(row.from_user_id, 'from_user_id');
  return {
    serverMsgId: readId(row.server_msg_id, 'server_msg_id'),
    clientMsgId: row.client_msg_id,
    fromUserId,
    sessionType,
    // A single-chat row holds the owner's peer; the original target is the peer only when the
    // owner sent it, otherwise it was the owner.
    toSessionId: sessionType === SessionType.GROUP || fromUserId === ownerUserId ? sessionId : ownerUserId,
    msgType: readInt(row.msg_type, 'msg_type'),
    msgData: row.msg_data,
    attach: row.attach,
    senderClientType: readInt(row.sender_client_type, 'sender_client_type'),
    msgStatus: readInt(row.msg_status, 'msg_status'),
    createTime: readInt(row.create_time, 'create_time'),
  };
}
