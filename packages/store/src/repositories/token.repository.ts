import { createHash } from 'node:crypto';
import { assertId } from '../internal/ids';
import { nowSeconds, type Db, type StoreContext } from '../internal/store-context';
import { StoreInvalidArgumentError } from '../store.errors';
import { TOKEN_ID_LENGTH, isTokenId } from '../token-id';
import type { TokenRepository } from '../user.port';

/** Oldest tokens beyond this many per user are dropped on issue, so re-logins cannot grow a user's rows forever. */
const MAX_TOKENS_PER_USER = 32;
const MAX_TOKEN_LENGTH = 4096;

export class KyselyTokenRepository implements TokenRepository {
  constructor(private readonly ctx: StoreContext) {}

  async issue(userId: number, token: string, ttlSeconds?: number): Promise<void> {
    const row = this.row(userId, token, ttlSeconds);
    await this.ctx.transaction(async (trx) => {
      await trx
        .deleteFrom('im_user_token')
        .where('user_id', '=', row.user_id)
        .where((eb) =>
          eb.or([eb('expires_at', '<=', row.created_at), eb('token_sha256', '=', row.token_sha256)]),
        )
        .execute();
      await trx.insertInto('im_user_token').values(row).execute();
      await pruneOldest(trx, row.user_id);
    });
  }

  async rotate(userId: number, token: string, ttlSeconds?: number): Promise<void> {
    const row = this.row(userId, token, ttlSeconds);
    await this.ctx.transaction(async (trx) => {
      await trx.deleteFrom('im_user_token').where('user_id', '=', row.user_id).execute();
      await trx.insertInto('im_user_token').values(row).execute();
    });
  }

  async verify(userId: number, token: string): Promise<boolean> {
    if (!Number.isSafeInteger(userId) || userId <= 0) return false;
    if (typeof token !== 'string' || token === '' || token.length > MAX_TOKEN_LENGTH) return false;
    const now = nowSeconds(this.ctx);
    const row = await this.ctx.db
      .selectFrom('im_user_token')
      .select('user_id')
      .where('user_id', '=', userId)
      .where('token_sha256', '=', sha256Hex(token))
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
      .executeTakeFirst();
    return row !== undefined;
  }

  async revoke(userId: number, token?: string): Promise<number> {
    assertId(userId, 'userId');
    const result = await this.ctx.db
      .deleteFrom('im_user_token')
      .where('user_id', '=', userId)
      .$if(token !== undefined, (qb) => qb.where('token_sha256', '=', sha256Hex(token!)))
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async revokeById(userId: number, tokenId: string): Promise<number> {
    assertId(userId, 'userId');
    if (!isTokenId(tokenId)) throw new StoreInvalidArgumentError('tokenId must be 16 hex digits');
    // The id is a prefix of the stored hash: a range of the primary key, no scan.
    const result = await this.ctx.db
      .deleteFrom('im_user_token')
      .where('user_id', '=', userId)
      .where('token_sha256', '>=', tokenId)
      .where('token_sha256', '<', `${tokenId}g`)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async liveIds(userId: number): Promise<string[]> {
    assertId(userId, 'userId');
    const now = nowSeconds(this.ctx);
    const rows = await this.ctx.db
      .selectFrom('im_user_token')
      .select('token_sha256')
      .where('user_id', '=', userId)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
      .execute();
    return rows.map((r) => r.token_sha256.slice(0, TOKEN_ID_LENGTH));
  }

  private row(userId: number, token: string, ttlSeconds: number | undefined) {
    assertId(userId, 'userId');
    if (typeof token !== 'string' || token === '' || token.length > MAX_TOKEN_LENGTH) {
      throw new StoreInvalidArgumentError(
        `token must be a non-empty string of at most ${MAX_TOKEN_LENGTH} characters`,
      );
    }
    if (ttlSeconds !== undefined && (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0)) {
      throw new StoreInvalidArgumentError('ttlSeconds must be a positive integer');
    }
    const now = nowSeconds(this.ctx);
    return {
      user_id: userId,
      token_sha256: sha256Hex(token),
      created_at: now,
      expires_at: ttlSeconds === undefined ? null : now + ttlSeconds,
    };
  }
}

async function pruneOldest(trx: Db, userId: number): Promise<void> {
  const surplus = await trx
    .selectFrom('im_user_token')
    .select('token_sha256')
    .where('user_id', '=', userId)
    .orderBy('created_at', 'desc')
    .orderBy('token_sha256')
    .limit(1000)
    .offset(MAX_TOKENS_PER_USER)
    .execute();
  if (surplus.length === 0) return;
  await trx
    .deleteFrom('im_user_token')
    .where('user_id', '=', userId)
    .where(
      'token_sha256',
      'in',
      surplus.map((r) => r.token_sha256),
    )
    .execute();
}

export function sha256Hex(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}
