import { sql } from 'kysely';
import type {
  ContactRepository,
  ContactState,
  FriendRequestRecord,
  RequestOutcome,
  RespondOutcome,
} from '../contact.port';
import { CompiledShapes } from '../internal/compiled-shapes';
import { assertId, assertText, readId, readInt } from '../internal/ids';
import type { SqlDialect } from '../internal/sql-dialect';
import { paddedSize } from '../internal/statement-sizes';
import { nowSeconds, type Db, type StoreContext } from '../internal/store-context';
import { StoreInvalidArgumentError } from '../store.errors';
import { uniqueIds } from './user.repository';

const MAX_LIMIT = 10_000;

export class KyselyContactRepository implements ContactRepository {
  // blockingPairs runs for every batch of sends with pairs the logic role has not cached.
  readonly #shapes = new CompiledShapes();

  constructor(private readonly ctx: StoreContext) {}

  async request(fromUserId: number, toUserId: number, note: string): Promise<RequestOutcome> {
    pair(fromUserId, toUserId);
    const text = assertText(note, 256, 'note');
    return this.ctx.transaction(async (trx) => {
      if (await blocks(trx, toUserId, fromUserId)) return 'blocked';
      if (await blocks(trx, fromUserId, toUserId)) return 'blocking';
      if (await friends(trx, fromUserId, toUserId)) return 'friends';
      const reverse = await trx
        .selectFrom('im_friend_request')
        .select('from_user_id')
        .where('from_user_id', '=', toUserId)
        .where('to_user_id', '=', fromUserId)
        .executeTakeFirst();
      const now = nowSeconds(this.ctx);
      if (reverse) {
        await befriend(trx, this.ctx.sql, fromUserId, toUserId, now);
        return 'accepted';
      }
      await trx
        .insertInto('im_friend_request')
        .values({ from_user_id: fromUserId, to_user_id: toUserId, note: text, created_at: now })
        // Asked again: the newer note wins, the original time stays.
        .modifyEnd(
          this.ctx.sql.upsert(['from_user_id', 'to_user_id'], [['note', this.ctx.sql.incoming('note')]]),
        )
        .execute();
      return 'requested';
    });
  }

  async respond(userId: number, fromUserId: number, accept: boolean): Promise<RespondOutcome> {
    pair(userId, fromUserId);
    return this.ctx.transaction(async (trx) => {
      const pending = await trx
        .selectFrom('im_friend_request')
        .select('from_user_id')
        .where('from_user_id', '=', fromUserId)
        .where('to_user_id', '=', userId)
        .executeTakeFirst();
      if (!pending) return accept && (await friends(trx, userId, fromUserId)) ? 'friends' : 'none';
      if (!accept) {
        await dropRequests(trx, userId, fromUserId);
        return 'declined';
      }
      // A block set after the request was sent still wins: the request just goes.
      if ((await blocks(trx, userId, fromUserId)) || (await blocks(trx, fromUserId, userId))) {
        await dropRequests(trx, userId, fromUserId);
        return 'none';
      }
      await befriend(trx, this.ctx.sql, userId, fromUserId, nowSeconds(this.ctx));
      return 'accepted';
    });
  }

  async remove(userId: number, peerUserId: number): Promise<boolean> {
    pair(userId, peerUserId);
    return this.ctx.transaction((trx) => unfriend(trx, userId, peerUserId));
  }

  async setBlocked(ownerUserId: number, peerUserId: number, blocked: boolean): Promise<boolean> {
    pair(ownerUserId, peerUserId);
    if (!blocked) {
      const result = await this.ctx.db
        .deleteFrom('im_block')
        .where('owner_user_id', '=', ownerUserId)
        .where('blocked_user_id', '=', peerUserId)
        .executeTakeFirst();
      return result.numDeletedRows > 0n;
    }
    return this.ctx.transaction(async (trx) => {
      await unfriend(trx, ownerUserId, peerUserId);
      if (await blocks(trx, ownerUserId, peerUserId)) return false;
      await trx
        .insertInto('im_block')
        .values({ owner_user_id: ownerUserId, blocked_user_id: peerUserId, created_at: nowSeconds(this.ctx) })
        .modifyEnd(
          this.ctx.sql.upsert(['owner_user_id', 'blocked_user_id'], [['created_at', sql.ref('created_at')]]),
        )
        .execute();
      return true;
    });
  }

  isBlocked(ownerUserId: number, peerUserId: number): Promise<boolean> {
    assertId(ownerUserId, 'ownerUserId');
    assertId(peerUserId, 'peerUserId');
    return blocks(this.ctx.db, ownerUserId, peerUserId);
  }

  async state(userId: number, peerUserId: number): Promise<ContactState> {
    pair(userId, peerUserId);
    const db = this.ctx.db;
    if (await blocks(db, userId, peerUserId)) return 'blocked';
    if (await friends(db, userId, peerUserId)) return 'friends';
    const rows = await db
      .selectFrom('im_friend_request')
      .select(['from_user_id'])
      .where((eb) =>
        eb.or([
          eb.and([eb('from_user_id', '=', userId), eb('to_user_id', '=', peerUserId)]),
          eb.and([eb('from_user_id', '=', peerUserId), eb('to_user_id', '=', userId)]),
        ]),
      )
      .execute();
    if (rows.some((r) => readId(r.from_user_id, 'from_user_id') === userId)) return 'requested';
    return rows.length > 0 ? 'pending' : 'none';
  }

  async friendIds(userId: number, limit: number): Promise<number[]> {
    assertId(userId, 'userId');
    const rows = await this.ctx.db
      .selectFrom('im_friend')
      .select('friend_user_id')
      .where('owner_user_id', '=', userId)
      .orderBy('friend_user_id')
      .limit(assertLimit(limit))
      .execute();
    return rows.map((r) => readId(r.friend_user_id, 'friend_user_id'));
  }

  async friendsAmong(userId: number, peerUserIds: readonly number[]): Promise<number[]> {
    assertId(userId, 'userId');
    const ids = uniqueIds(peerUserIds, 'peerUserIds');
    if (ids.length === 0) return [];
    const rows = await this.ctx.db
      .selectFrom('im_friend')
      .select('friend_user_id')
      .where('owner_user_id', '=', userId)
      .where('friend_user_id', 'in', ids)
      .orderBy('friend_user_id')
      .execute();
    return rows.map((r) => readId(r.friend_user_id, 'friend_user_id'));
  }

  async requests(
    userId: number,
    limit: number,
  ): Promise<{ incoming: FriendRequestRecord[]; outgoing: FriendRequestRecord[] }> {
    assertId(userId, 'userId');
    const n = assertLimit(limit);
    const base = () =>
      this.ctx.db
        .selectFrom('im_friend_request')
        .select(['from_user_id', 'to_user_id', 'note', 'created_at'])
        .orderBy('created_at')
        .limit(n);
    const [incoming, outgoing] = await Promise.all([
      base().where('to_user_id', '=', userId).orderBy('from_user_id').execute(),
      base().where('from_user_id', '=', userId).orderBy('to_user_id').execute(),
    ]);
    return { incoming: incoming.map(toRequest), outgoing: outgoing.map(toRequest) };
  }

  async blockedIds(userId: number, limit: number): Promise<number[]> {
    assertId(userId, 'userId');
    const rows = await this.ctx.db
      .selectFrom('im_block')
      .select('blocked_user_id')
      .where('owner_user_id', '=', userId)
      .orderBy('blocked_user_id')
      .limit(assertLimit(limit))
      .execute();
    return rows.map((r) => readId(r.blocked_user_id, 'blocked_user_id'));
  }

  async blockingPairs(pairs: readonly (readonly [number, number])[]): Promise<Array<[number, number]>> {
    const unique = new Map<string, [number, number]>();
    for (const [owner, peer] of pairs) {
      assertId(owner, 'owner');
      assertId(peer, 'peer');
      unique.set(`${owner}:${peer}`, [owner, peer]);
    }
    const all = [...unique.values()];
    const found = new Set<string>();
    for (let i = 0; i < all.length; i += PAIRS_PER_QUERY) {
      const chunk = all.slice(i, i + PAIRS_PER_QUERY);
      // Padded with the last pair to a fixed size, so that the statement has few shapes.
      const size = paddedSize(chunk.length, PAIRS_PER_QUERY);
      while (chunk.length < size) chunk.push(chunk[chunk.length - 1]!);
      const db = this.ctx.db;
      const rows = await this.#shapes.execute(db, `blockingPairs:${size}`, chunk.flat(), () =>
        db
          .selectFrom('im_block')
          .select(['owner_user_id', 'blocked_user_id'])
          .where(this.ctx.sql.rowIn(['owner_user_id', 'blocked_user_id'], chunk)),
      );
      for (const r of rows)
        found.add(
          `${readId(r.owner_user_id, 'owner_user_id')}:${readId(r.blocked_user_id, 'blocked_user_id')}`,
        );
    }
    return all.filter(([owner, peer]) => found.has(`${owner}:${peer}`));
  }

  async blockersAmong(peerUserId: number, ownerUserIds: readonly number[]): Promise<number[]> {
    assertId(peerUserId, 'peerUserId');
    const ids = uniqueIds(ownerUserIds, 'ownerUserIds');
    if (ids.length === 0) return [];
    const rows = await this.ctx.db
      .selectFrom('im_block')
      .select('owner_user_id')
      .where('owner_user_id', 'in', ids)
      .where('blocked_user_id', '=', peerUserId)
      .orderBy('owner_user_id')
      .execute();
    return rows.map((r) => readId(r.owner_user_id, 'owner_user_id'));
  }
}

// Two parameters a pair: well under SQLite's 32,766 and MySQL's 65,535 bound parameters.
const PAIRS_PER_QUERY = 500;

function pair(userId: number, peerUserId: number): void {
  assertId(userId, 'userId');
  assertId(peerUserId, 'peerUserId');
  if (userId === peerUserId) throw new StoreInvalidArgumentError('a user cannot be their own contact');
}

function assertLimit(limit: number): number {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT)
    throw new StoreInvalidArgumentError(`limit must be an integer in 1..${MAX_LIMIT}, got ${String(limit)}`);
  return limit;
}

async function blocks(db: Db, ownerUserId: number, peerUserId: number): Promise<boolean> {
  const row = await db
    .selectFrom('im_block')
    .select('owner_user_id')
    .where('owner_user_id', '=', ownerUserId)
    .where('blocked_user_id', '=', peerUserId)
    .executeTakeFirst();
  return row !== undefined;
}

async function friends(db: Db, userId: number, peerUserId: number): Promise<boolean> {
  const row = await db
    .selectFrom('im_friend')
    .select('owner_user_id')
    .where('owner_user_id', '=', userId)
    .where('friend_user_id', '=', peerUserId)
    .executeTakeFirst();
  return row !== undefined;
}

async function dropRequests(trx: Db, a: number, b: number): Promise<number> {
  const result = await trx
    .deleteFrom('im_friend_request')
    .where((eb) =>
      eb.or([
        eb.and([eb('from_user_id', '=', a), eb('to_user_id', '=', b)]),
        eb.and([eb('from_user_id', '=', b), eb('to_user_id', '=', a)]),
      ]),
    )
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

async function befriend(trx: Db, dialect: SqlDialect, a: number, b: number, now: number): Promise<void> {
  await dropRequests(trx, a, b);
  await trx
    .insertInto('im_friend')
    .values([
      { owner_user_id: a, friend_user_id: b, created_at: now },
      { owner_user_id: b, friend_user_id: a, created_at: now },
    ])
    // Already friends (a retry): keep the original time.
    .modifyEnd(dialect.upsert(['owner_user_id', 'friend_user_id'], [['created_at', sql.ref('created_at')]]))
    .execute();
}

async function unfriend(trx: Db, a: number, b: number): Promise<boolean> {
  const requests = await dropRequests(trx, a, b);
  const result = await trx
    .deleteFrom('im_friend')
    .where((eb) =>
      eb.or([
        eb.and([eb('owner_user_id', '=', a), eb('friend_user_id', '=', b)]),
        eb.and([eb('owner_user_id', '=', b), eb('friend_user_id', '=', a)]),
      ]),
    )
    .executeTakeFirst();
  return requests > 0 || result.numDeletedRows > 0n;
}

function toRequest(row: {
  from_user_id: unknown;
  to_user_id: unknown;
  note: string;
  created_at: unknown;
}): FriendRequestRecord {
  return {
    fromUserId: readId(row.from_user_id, 'from_user_id'),
    toUserId: readId(row.to_user_id, 'to_user_id'),
    note: row.note,
    createdAt: readInt(row.created_at, 'created_at'),
  };
}
