import type { BotRecord, BotRepository, BotWebhook, GroupBot } from '../bot.port';
import { assertId, readId, readInt } from '../internal/ids';
import { nowSeconds, type StoreContext } from '../internal/store-context';
import { StoreInvalidArgumentError } from '../store.errors';
import { uniqueIds } from './user.repository';

const WEBHOOK_URL = /^https?:\/\/[\x21-\x7e]{1,500}$/;
const SECRET = /^[\x21-\x7e]{16,128}$/;

function assertWebhookUrl(url: string): string {
  if (typeof url !== 'string' || url.length > 512 || !WEBHOOK_URL.test(url))
    throw new StoreInvalidArgumentError(
      'webhookUrl must be an http(s) URL of printable ASCII, at most 512 characters',
    );
  return url;
}

function assertSecret(secret: string): string {
  if (typeof secret !== 'string' || !SECRET.test(secret))
    throw new StoreInvalidArgumentError('a bot secret is 16..128 printable ASCII characters');
  return secret;
}

export class KyselyBotRepository implements BotRepository {
  constructor(private readonly ctx: StoreContext) {}

  async set(userId: number, webhookUrl: string, secret?: string): Promise<BotRecord> {
    const d = this.ctx.sql;
    const now = nowSeconds(this.ctx);
    await this.ctx.db
      .insertInto('im_bot')
      .values({
        user_id: assertId(userId, 'userId'),
        webhook_url: assertWebhookUrl(webhookUrl),
        secret: secret === undefined ? null : assertSecret(secret),
        created_at: now,
        updated_at: now,
      })
      // The secret is not among the updated columns: changing the URL keeps it.
      .modifyEnd(
        d.upsert(
          ['user_id'],
          [
            ['webhook_url', d.incoming('webhook_url')],
            ['updated_at', d.incoming('updated_at')],
          ],
        ),
      )
      .execute();
    return (await this.get(userId))!;
  }

  async get(userId: number): Promise<BotRecord | null> {
    const row = await this.ctx.db
      .selectFrom('im_bot')
      .selectAll()
      .where('user_id', '=', assertId(userId, 'userId'))
      .executeTakeFirst();
    return row ? toRecord(row) : null;
  }

  async list(afterId: number, limit: number): Promise<BotRecord[]> {
    if (!Number.isSafeInteger(afterId) || afterId < 0)
      throw new StoreInvalidArgumentError('afterId must be a non-negative integer');
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
      throw new StoreInvalidArgumentError('limit must be 1..1000');
    const rows = await this.ctx.db
      .selectFrom('im_bot')
      .selectAll()
      .where('user_id', '>', afterId)
      .orderBy('user_id')
      .limit(limit)
      .execute();
    return rows.map(toRecord);
  }

  async among(userIds: readonly number[]): Promise<BotRecord[]> {
    const ids = uniqueIds(userIds, 'userIds');
    if (ids.length === 0) return [];
    const rows = await this.ctx.db
      .selectFrom('im_bot')
      .selectAll()
      .where('user_id', 'in', ids)
      .orderBy('user_id')
      .execute();
    return rows.map(toRecord);
  }

  async webhooksAmong(userIds: readonly number[]): Promise<BotWebhook[]> {
    const ids = uniqueIds(userIds, 'userIds');
    if (ids.length === 0) return [];
    const rows = await this.ctx.db
      .selectFrom('im_bot')
      .select(['user_id', 'webhook_url', 'secret'])
      .where('user_id', 'in', ids)
      .orderBy('user_id')
      .execute();
    return rows.map(toWebhook);
  }

  async inGroups(groupIds: readonly number[]): Promise<GroupBot[]> {
    const ids = uniqueIds(groupIds, 'groupIds');
    if (ids.length === 0) return [];
    // Members are rows of im_group_member (a member who left has none): the group's key first.
    const rows = await this.ctx.db
      .selectFrom('im_group_member as m')
      .innerJoin('im_bot as b', 'b.user_id', 'm.user_id')
      .select(['m.group_id', 'm.joined_at', 'b.user_id', 'b.webhook_url', 'b.secret'])
      .where('m.group_id', 'in', ids)
      .orderBy('m.group_id')
      .orderBy('b.user_id')
      .execute();
    return rows.map((r) => ({
      groupId: readId(r.group_id as number, 'group_id'),
      joinedAt: Number(r.joined_at),
      ...toWebhook(r),
    }));
  }

  async rotateSecret(userId: number, secret: string): Promise<boolean> {
    const r = await this.ctx.db
      .updateTable('im_bot')
      .set({ secret: assertSecret(secret), updated_at: nowSeconds(this.ctx) })
      .where('user_id', '=', assertId(userId, 'userId'))
      .executeTakeFirst();
    return r.numUpdatedRows > 0n;
  }

  async remove(userId: number): Promise<boolean> {
    const r = await this.ctx.db
      .deleteFrom('im_bot')
      .where('user_id', '=', assertId(userId, 'userId'))
      .executeTakeFirst();
    return r.numDeletedRows > 0n;
  }
}

function toRecord(r: {
  user_id: unknown;
  webhook_url: string;
  secret: string | null;
  created_at: unknown;
  updated_at: unknown;
}): BotRecord {
  return {
    userId: readId(r.user_id as number, 'user_id'),
    webhookUrl: r.webhook_url,
    hasOwnSecret: r.secret !== null,
    createdAt: readInt(r.created_at as number, 'created_at'),
    updatedAt: readInt(r.updated_at as number, 'updated_at'),
  };
}

function toWebhook(r: { user_id: unknown; webhook_url: string; secret: string | null }): BotWebhook {
  return { userId: readId(r.user_id as number, 'user_id'), webhookUrl: r.webhook_url, secret: r.secret };
}
