import type { BotRecord, BotRepository } from '../bot.port';
import { assertId, readId, readInt } from '../internal/ids';
import { nowSeconds, type StoreContext } from '../internal/store-context';
import { StoreInvalidArgumentError } from '../store.errors';
import { uniqueIds } from './user.repository';

const WEBHOOK_URL = /^https?:\/\/[\x21-\x7e]{1,500}$/;

function assertWebhookUrl(url: string): string {
  if (typeof url !== 'string' || url.length > 512 || !WEBHOOK_URL.test(url))
    throw new StoreInvalidArgumentError(
      'webhookUrl must be an http(s) URL of printable ASCII, at most 512 characters',
    );
  return url;
}

export class KyselyBotRepository implements BotRepository {
  constructor(private readonly ctx: StoreContext) {}

  async set(userId: number, webhookUrl: string): Promise<BotRecord> {
    const d = this.ctx.sql;
    const now = nowSeconds(this.ctx);
    await this.ctx.db
      .insertInto('im_bot')
      .values({
        user_id: assertId(userId, 'userId'),
        webhook_url: assertWebhookUrl(webhookUrl),
        created_at: now,
        updated_at: now,
      })
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
  created_at: unknown;
  updated_at: unknown;
}): BotRecord {
  return {
    userId: readId(r.user_id as number, 'user_id'),
    webhookUrl: r.webhook_url,
    createdAt: readInt(r.created_at as number, 'created_at'),
    updatedAt: readInt(r.updated_at as number, 'updated_at'),
  };
}
