import { timingSafeEqual } from 'node:crypto';
import type { Selectable, Updateable } from 'kysely';
import {
  DEFAULT_PASSWORD_HASH_COST,
  burnPasswordCheck,
  hashPassword,
  needsRehash,
  verifyPasswordHash,
} from '../internal/password-hash';
import type { UserTable } from '../internal/database.types';
import { assertId, assertText, readInt, readId } from '../internal/ids';
import { nowSeconds, type StoreContext } from '../internal/store-context';
import { StoreInvalidArgumentError, UserAlreadyExistsError } from '../store.errors';
import {
  MAX_EXPLICIT_USER_ID,
  type NewUser,
  type UserListQuery,
  type UserPatch,
  type UserRecord,
  type UserRepository,
} from '../user.port';

const USER_COLUMNS = [
  'user_id',
  'user_name',
  'nick_name',
  'nick_name_spell',
  'phone',
  'avatar_url',
  'attach_info',
  'created_at',
  'updated_at',
] as const;

const MD5_HEX = /^[0-9a-f]{32}$/;
const MAX_IDS = 10_000;

export class KyselyUserRepository implements UserRepository {
  private readonly cost: number;

  constructor(private readonly ctx: StoreContext) {
    this.cost = ctx.passwordHashCost ?? DEFAULT_PASSWORD_HASH_COST;
  }

  async create(user: NewUser): Promise<UserRecord> {
    const now = nowSeconds(this.ctx);
    const userId = user.userId === undefined ? undefined : assertExplicitId(user.userId);
    const userName = user.userName == null ? null : assertUserName(user.userName);
    const passwordMd5 = normalizeMd5(user.passwordMd5);
    const values = {
      ...(userId === undefined ? {} : { user_id: userId }),
      user_name: userName,
      user_name_key: userName === null ? null : userNameKey(userName),
      nick_name: assertText(user.nickName ?? '', 128, 'nickName'),
      nick_name_spell: assertText(user.nickNameSpell ?? '', 128, 'nickNameSpell'),
      phone: assertText(user.phone ?? '', 32, 'phone'),
      avatar_url: assertText(user.avatarUrl ?? '', 512, 'avatarUrl'),
      attach_info: assertText(user.attachInfo ?? '', 16_000, 'attachInfo'),
      password_md5: null,
      password_hash: passwordMd5 === null ? null : await hashPassword(passwordMd5, this.cost),
      created_at: now,
      updated_at: now,
    };
    let id: number;
    try {
      // In a transaction so an assigned id beyond 2^53 (the counter pushed there by an explicit
      // id) rolls back instead of leaving a user nobody can address.
      id = await this.ctx.transaction(async (trx) => {
        const { insertId } = await trx.insertInto('im_user').values(values).executeTakeFirst();
        return userId ?? readId(insertId, 'user_id');
      });
    } catch (err) {
      if (this.ctx.sql.isUniqueViolation(err)) {
        const what = userId !== undefined ? `id ${userId}` : '';
        const name = userName !== null ? `name ${JSON.stringify(userName)}` : '';
        throw new UserAlreadyExistsError(`user ${[what, name].filter(Boolean).join(' or ')} already exists`, {
          cause: err,
        });
      }
      throw err;
    }
    const created = await this.findById(id);
    if (!created) throw new Error(`user ${id} vanished right after its insert`);
    return created;
  }

  async findById(userId: number): Promise<UserRecord | null> {
    const row = await this.ctx.db
      .selectFrom('im_user')
      .select(USER_COLUMNS)
      .where('user_id', '=', assertId(userId, 'userId'))
      .executeTakeFirst();
    return row ? toUser(row) : null;
  }

  async findByName(userName: string): Promise<UserRecord | null> {
    const row = await this.rowByName(userName);
    return row ? toUser(row) : null;
  }

  /**
   * The row named exactly `userName`, else the one whose name differs only in case. Exact first:
   * names that collided before names became case-insensitive (migration 0002) keep their login.
   */
  private async rowByName(userName: string) {
    if (typeof userName !== 'string' || userName === '' || userName.length > 64) return undefined;
    const columns = [...USER_COLUMNS, 'password_md5', 'password_hash'] as const;
    const exact = await this.ctx.db
      .selectFrom('im_user')
      .select(columns)
      .where('user_name', '=', userName)
      .executeTakeFirst();
    if (exact) return exact;
    const key = userNameKey(userName);
    if ([...key].length > 64) return undefined;
    return this.ctx.db
      .selectFrom('im_user')
      .select(columns)
      .where('user_name_key', '=', key)
      .executeTakeFirst();
  }

  async findMany(userIds: readonly number[]): Promise<UserRecord[]> {
    const ids = uniqueIds(userIds, 'userIds');
    if (ids.length === 0) return [];
    const rows = await this.ctx.db
      .selectFrom('im_user')
      .select(USER_COLUMNS)
      .where('user_id', 'in', ids)
      .orderBy('user_id')
      .execute();
    return rows.map(toUser);
  }

  async list(query: UserListQuery): Promise<UserRecord[]> {
    const limit = query.limit;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      throw new StoreInvalidArgumentError('limit must be an integer in 1..1000');
    }
    const afterId = query.afterId ?? 0;
    if (!Number.isSafeInteger(afterId) || afterId < 0)
      throw new StoreInvalidArgumentError('afterId must be ≥ 0');
    const rows = await this.ctx.db
      .selectFrom('im_user')
      .select(USER_COLUMNS)
      .where('user_id', '>', afterId)
      .orderBy('user_id')
      .limit(limit)
      .execute();
    return rows.map(toUser);
  }

  async verifyPassword(userName: string, passwordMd5: string): Promise<UserRecord | null> {
    if (typeof passwordMd5 !== 'string') return null;
    const given = passwordMd5.toLowerCase();
    if (!MD5_HEX.test(given)) return null;
    const row = await this.rowByName(userName);
    if (!row || (row.password_hash === null && row.password_md5 === null)) {
      await burnPasswordCheck(given, this.cost);
      return null;
    }
    if (row.password_hash !== null) {
      if (!(await verifyPasswordHash(given, row.password_hash))) return null;
      if (needsRehash(row.password_hash, this.cost)) await this.upgradePassword(row, given);
      return toUser(row);
    }
    // A row from before hashing (migration 0002) holds the MD5 itself: compare in constant time,
    // then replace it by its hash, so it is at rest as a hash from this login on.
    const ok = timingSafeEqual(Buffer.from(row.password_md5!, 'ascii'), Buffer.from(given, 'ascii'));
    if (!ok) return null;
    await this.upgradePassword(row, given);
    return toUser(row);
  }

  /** Conditional on the row still holding what was checked: a concurrent password change wins. */
  private async upgradePassword(
    row: { user_id: unknown; password_md5: string | null; password_hash: string | null },
    md5: string,
  ): Promise<void> {
    const userId = readId(row.user_id, 'user_id');
    let q = this.ctx.db
      .updateTable('im_user')
      .set({ password_hash: await hashPassword(md5, this.cost), password_md5: null })
      .where('user_id', '=', userId);
    q =
      row.password_hash === null
        ? q.where('password_hash', 'is', null).where('password_md5', '=', row.password_md5)
        : q.where('password_hash', '=', row.password_hash);
    await q.execute();
  }

  async update(userId: number, patch: UserPatch): Promise<UserRecord | null> {
    assertId(userId, 'userId');
    const set: Updateable<UserTable> = { updated_at: nowSeconds(this.ctx) };
    if (patch.nickName !== undefined) set.nick_name = assertText(patch.nickName, 128, 'nickName');
    if (patch.nickNameSpell !== undefined)
      set.nick_name_spell = assertText(patch.nickNameSpell, 128, 'nickNameSpell');
    if (patch.phone !== undefined) set.phone = assertText(patch.phone, 32, 'phone');
    if (patch.avatarUrl !== undefined) set.avatar_url = assertText(patch.avatarUrl, 512, 'avatarUrl');
    if (patch.attachInfo !== undefined) set.attach_info = assertText(patch.attachInfo, 16_000, 'attachInfo');
    if (patch.passwordMd5 !== undefined) {
      const md5 = normalizeMd5(patch.passwordMd5);
      set.password_md5 = null;
      set.password_hash = md5 === null ? null : await hashPassword(md5, this.cost);
    }
    await this.ctx.db.updateTable('im_user').set(set).where('user_id', '=', userId).execute();
    return this.findById(userId);
  }
}

function assertUserName(name: string): string {
  assertText(name, 64, 'userName');
  if (name.trim() === '') throw new StoreInvalidArgumentError('userName must not be blank');
  if ([...userNameKey(name)].length > 64)
    throw new StoreInvalidArgumentError('userName is longer than 64 characters once lower-cased');
  return name;
}

/**
 * What makes two names the same user: case is ignored. Locale-independent, and the same on every
 * dialect because the store computes it (SQLite's lower() folds ASCII only).
 */
export function userNameKey(name: string): string {
  return name.toLowerCase();
}

/**
 * Ids a caller may choose (the legacy register body). Bounded far below 2^53: an explicit id
 * moves the database's auto-increment counter past it, and a counter beyond 2^53 - 1 would make
 * every later assigned id unreadable (issue 10 #3).
 */
function assertExplicitId(value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0 || value > MAX_EXPLICIT_USER_ID) {
    throw new StoreInvalidArgumentError(
      `userId must be an integer in 1..${MAX_EXPLICIT_USER_ID}, got ${String(value)}`,
    );
  }
  return value;
}

function normalizeMd5(value: string | null | undefined): string | null {
  if (value == null) return null;
  const lower = typeof value === 'string' ? value.toLowerCase() : '';
  if (!MD5_HEX.test(lower)) throw new StoreInvalidArgumentError('passwordMd5 must be 32 hex characters');
  return lower;
}

export function uniqueIds(ids: readonly number[], what: string): number[] {
  if (ids.length > MAX_IDS) throw new StoreInvalidArgumentError(`${what}: at most ${MAX_IDS} ids per call`);
  return [...new Set(ids.map((id) => assertId(id, what)))].sort((a, b) => a - b);
}

function toUser(row: Pick<Selectable<UserTable>, (typeof USER_COLUMNS)[number]>): UserRecord {
  return {
    userId: readId(row.user_id, 'user_id'),
    userName: row.user_name,
    nickName: row.nick_name,
    nickNameSpell: row.nick_name_spell,
    phone: row.phone,
    avatarUrl: row.avatar_url,
    attachInfo: row.attach_info,
    createdAt: readInt(row.created_at, 'created_at'),
    updatedAt: readInt(row.updated_at, 'updated_at'),
  };
}
