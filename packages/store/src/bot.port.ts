/** A user flagged as a bot (ADR 0016): its single-chat messages are POSTed to `webhookUrl`. */
export interface BotRecord {
  readonly userId: number;
  /** http(s) URL, printable ASCII, at most 512 characters. */
  readonly webhookUrl: string;
  /** Unix seconds. */
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** Bots, one row per bot user (`im_bot`). */
export interface BotRepository {
  /** Flags `userId` as a bot with this webhook, or changes its webhook (idempotent upsert). */
  set(userId: number, webhookUrl: string): Promise<BotRecord>;
  get(userId: number): Promise<BotRecord | null>;
  /** Bots ascending by user id, after `afterId`, at most `limit` (1..1000). */
  list(afterId: number, limit: number): Promise<BotRecord[]>;
  /** The bots among `userIds`, ascending (one query: recent sessions, the job's bot lookups). */
  among(userIds: readonly number[]): Promise<BotRecord[]>;
  /** True when the user was a bot. */
  remove(userId: number): Promise<boolean>;
}
