import { CompiledShapes } from '../internal/compiled-shapes';
import { assertId, assertIdOrZero, assertUint, readInt, readId } from '../internal/ids';
import { recvTable, sendTable, type StoreContext } from '../internal/store-context';
import {
  SessionType,
  type ConversationRef,
  type HistoryQuery,
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
    let key: [number, number, number];
    if (conversation.type === SessionType.GROUP) {
      key = [SessionType.GROUP, assertId(conversation.groupId, 'groupId'), 0];
    } else if (conversation.type === SessionType.SINGLE) {
      const a = assertId(conversation.a, 'a');
      const b = assertId(conversation.b, 'b');
      key = [SessionType.SINGLE, Math.min(a, b), Math.max(a, b)];
    } else {
      throw new StoreInvalidArgumentError('conversation type must be 1 or 2');
    }
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
    return rows.reverse().map((r) => toMessage(ownerUserId, r));
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
    return rows.map((r) => toMessage(ownerUserId, r));
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
    return row ? toMessage(ownerUserId, row) : null;
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
