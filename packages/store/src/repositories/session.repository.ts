import { sql } from 'kysely';
import { assertId, assertIdOrZero, assertSeconds, readInt, readId } from '../internal/ids';
import { recvTable, type Db, type StoreContext } from '../internal/store-context';
import { SessionType } from '../message.port';
import type {
  RecentSessionsQuery,
  SessionKey,
  SessionPosition,
  SessionRecord,
  SessionRepository,
} from '../session.port';
import { StoreInvalidArgumentError } from '../store.errors';
import { assertSessionType } from './message.validation';

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
] as const;

export class KyselySessionRepository implements SessionRepository {
  constructor(private readonly ctx: StoreContext) {}

  async recent(ownerUserId: number, query: RecentSessionsQuery = {}): Promise<SessionRecord[]> {
    assertId(ownerUserId, 'ownerUserId');
    const since = assertSeconds(query.updatedSince ?? 0, 'updatedSince');
    const limit = query.limit;
    if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 1)) {
      throw new StoreInvalidArgumentError('limit must be a positive integer');
    }
    // The owner's rows are one primary-key range; sorting a user's few hundred sessions is cheap.
    const rows = await this.ctx.db
      .selectFrom('im_session')
      .select(SESSION_COLUMNS)
      .where('owner_user_id', '=', ownerUserId)
      .$if(since > 0, (qb) => qb.where('updated_time', '>=', since))
      .orderBy('last_create_time', 'desc')
      .orderBy('updated_time', 'desc')
      .orderBy('session_type', 'asc')
      .orderBy('session_id', 'asc')
      .$if(limit !== undefined, (qb) => qb.limit(limit!))
      .execute();
    return rows.map(toSession);
  }

  async positions(ownerUserId: number): Promise<SessionPosition[]> {
    assertId(ownerUserId, 'ownerUserId');
    const rows = await this.ctx.db
      .selectFrom('im_session')
      .select(['session_type', 'session_id', 'last_server_msg_id', 'unread_cnt'])
      .where('owner_user_id', '=', ownerUserId)
      .orderBy('session_type', 'asc')
      .orderBy('session_id', 'asc')
      .execute();
    return rows.map((r) => ({
      sessionType: assertSessionType(readInt(r.session_type, 'session_type')),
      sessionId: readId(r.session_id, 'session_id'),
      lastServerMsgId: readId(r.last_server_msg_id, 'last_server_msg_id'),
      unreadCnt: readInt(r.unread_cnt, 'unread_cnt'),
    }));
  }

  async get(ownerUserId: number, sessionType: SessionType, sessionId: number): Promise<SessionRecord | null> {
    const row = await this.ctx.db
      .selectFrom('im_session')
      .select(SESSION_COLUMNS)
      .where('owner_user_id', '=', assertId(ownerUserId, 'ownerUserId'))
      .where('session_type', '=', assertSessionType(sessionType))
      .where('session_id', '=', assertId(sessionId, 'sessionId'))
      .executeTakeFirst();
    return row ? toSession(row) : null;
  }

  async existing(keys: readonly SessionKey[]): Promise<boolean[]> {
    for (const k of keys) {
      assertId(k.ownerUserId, 'ownerUserId');
      assertSessionType(k.sessionType);
      assertId(k.sessionId, 'sessionId');
    }
    const found = new Set<string>();
    const CHUNK = 200;
    for (let i = 0; i < keys.length; i += CHUNK) {
      const chunk = keys.slice(i, i + CHUNK);
      const rows = await this.ctx.db
        .selectFrom('im_session')
        .select(['owner_user_id', 'session_type', 'session_id'])
        .where((eb) =>
          eb.or(
            chunk.map((k) =>
              eb.and([
                eb('owner_user_id', '=', k.ownerUserId),
                eb('session_type', '=', k.sessionType),
                eb('session_id', '=', k.sessionId),
              ]),
            ),
          ),
        )
        .execute();
      for (const r of rows)
        found.add(
          `${readId(r.owner_user_id, 'owner_user_id')}:${readInt(r.session_type, 'session_type')}:${readId(r.session_id, 'session_id')}`,
        );
    }
    return keys.map((k) => found.has(`${k.ownerUserId}:${k.sessionType}:${k.sessionId}`));
  }

  async markRead(
    ownerUserId: number,
    sessionType: SessionType,
    sessionId: number,
    upToMsgId: number,
  ): Promise<number | undefined> {
    assertId(ownerUserId, 'ownerUserId');
    assertSessionType(sessionType);
    assertId(sessionId, 'sessionId');
    assertIdOrZero(upToMsgId, 'upToMsgId');
    const nowMs = this.ctx.now();
    return this.ctx.transaction((trx) =>
      markReadIn(trx, this.ctx, { ownerUserId, sessionType, sessionId, upToMsgId, nowMs }),
    );
  }
}

async function markReadIn(
  trx: Db,
  ctx: StoreContext,
  a: { ownerUserId: number; sessionType: SessionType; sessionId: number; upToMsgId: number; nowMs: number },
): Promise<number | undefined> {
  // FOR UPDATE (MySQL) serialises with concurrent saves, which upsert this row: a save either
  // commits before we read (and is counted below) or waits and then sees our read_up_to.
  const session = await trx
    .selectFrom('im_session')
    .select(['last_server_msg_id', 'read_up_to'])
    .where('owner_user_id', '=', a.ownerUserId)
    .where('session_type', '=', a.sessionType)
    .where('session_id', '=', a.sessionId)
    .$if(ctx.sql.name === 'mysql', (qb) => qb.forUpdate())
    .executeTakeFirst();
  if (!session) return undefined;
  const last = readId(session.last_server_msg_id, 'last_server_msg_id');
  const previous = readId(session.read_up_to, 'read_up_to');
  // 0 means "everything"; an id beyond the newest message is clamped so a bogus client value
  // cannot hide future messages from the unread count.
  const target = a.upToMsgId === 0 ? last : Math.min(a.upToMsgId, last);
  const readUpTo = Math.max(previous, target);
  const counted = await trx
    .selectFrom(recvTable(a.ownerUserId, ctx.shards))
    .select((eb) => eb.fn.countAll().as('n'))
    .where('owner_user_id', '=', a.ownerUserId)
    .where('session_type', '=', a.sessionType)
    .where('session_id', '=', a.sessionId)
    .where('server_msg_id', '>', readUpTo)
    .where('from_user_id', '<>', a.ownerUserId)
    .executeTakeFirstOrThrow();
  await trx
    .updateTable('im_session')
    .set({
      unread_cnt: readInt(counted.n, 'count'),
      read_up_to: readUpTo,
      updated_time: Math.floor(a.nowMs / 1000),
    })
    .where('owner_user_id', '=', a.ownerUserId)
    .where('session_type', '=', a.sessionType)
    .where('session_id', '=', a.sessionId)
    .execute();
  const d = ctx.sql;
  await trx
    .insertInto('im_ack_time')
    .values({
      owner_user_id: a.ownerUserId,
      session_type: a.sessionType,
      session_id: a.sessionId,
      delivered_msg_id: 0,
      delivered_at_ms: 0,
      read_msg_id: readUpTo,
      read_at_ms: a.nowMs,
    })
    .modifyEnd(
      d.upsert(
        ['owner_user_id', 'session_type', 'session_id'],
        [
          [
            'read_at_ms',
            sql`case when ${d.incoming('read_msg_id')} > ${sql.ref('read_msg_id')} then ${d.incoming('read_at_ms')} else ${sql.ref('read_at_ms')} end`,
          ],
          ['read_msg_id', d.greatest(sql.ref('read_msg_id'), d.incoming('read_msg_id'))],
        ],
      ),
    )
    .execute();
  return readUpTo;
}

type SessionRow = {
  owner_user_id: unknown;
  session_type: unknown;
  session_id: unknown;
  status: unknown;
  unread_cnt: unknown;
  read_up_to: unknown;
  last_server_msg_id: unknown;
  last_client_msg_id: string;
  last_from_user_id: unknown;
  last_msg_type: unknown;
  last_msg_data: Buffer;
  last_attach: string;
  last_msg_status: unknown;
  last_create_time: unknown;
  updated_time: unknown;
};

function toSession(row: SessionRow): SessionRecord {
  const ownerUserId = readId(row.owner_user_id, 'owner_user_id');
  const sessionType = assertSessionType(readInt(row.session_type, 'session_type'));
  const sessionId = readId(row.session_id, 'session_id');
  const fromUserId = readId(row.last_from_user_id, 'last_from_user_id');
  return {
    ownerUserId,
    sessionType,
    sessionId,
    status: readInt(row.status, 'status'),
    unreadCnt: readInt(row.unread_cnt, 'unread_cnt'),
    readUpTo: readId(row.read_up_to, 'read_up_to'),
    updatedTime: readInt(row.updated_time, 'updated_time'),
    lastMessage: {
      serverMsgId: readId(row.last_server_msg_id, 'last_server_msg_id'),
      clientMsgId: row.last_client_msg_id,
      fromUserId,
      sessionType,
      toSessionId: sessionType === SessionType.GROUP || fromUserId === ownerUserId ? sessionId : ownerUserId,
      msgType: readInt(row.last_msg_type, 'last_msg_type'),
      msgData: row.last_msg_data,
      attach: row.last_attach,
      // The session keeps no sender client type; 0 = CIMClientType.DEFAULT.
      senderClientType: 0,
      msgStatus: readInt(row.last_msg_status, 'last_msg_status'),
      createTime: readInt(row.last_create_time, 'last_create_time'),
    },
  };
}
