/** A user flagged as a bot (ADR 0016): its conversations are POSTed to `webhookUrl`. */
export interface BotRecord {
  readonly userId: number;
  /** http(s) URL, printable ASCII, at most 512 characters. */
  readonly webhookUrl: string;
  /** False for a bot flagged before migration 0007: its calls are signed with MQIM_HOOK_SECRET. */
  readonly hasOwnSecret: boolean;
  /** Unix seconds. */
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** Where one bot's webhook calls go and what signs them (the job's view; never sent to clients). */
export interface BotWebhook {
  readonly userId: number;
  readonly webhookUrl: string;
  /** The bot's own signing secret; null = sign with the deployment's MQIM_HOOK_SECRET. */
  readonly secret: string | null;
}

/** A bot that is a member of a group. */
export interface GroupBot extends BotWebhook {
  readonly groupId: number;
  /** When the bot joined the group (Unix seconds): it gets no message sent before that. */
  readonly joinedAt: number;
}

/** Bots, one row per bot user (`im_bot`). */
export interface BotRepository {
  /**
   * Flags `userId` as a bot with this webhook, or changes its webhook (idempotent upsert).
   * `secret` (printable ASCII, 16..128 characters) is stored only when the row is created: an
   * existing bot keeps its secret (rotate it with `rotateSecret`).
   */
  set(userId: number, webhookUrl: string, secret?: string): Promise<BotRecord>;
  get(userId: number): Promise<BotRecord | null>;
  /** Bots ascending by user id, after `afterId`, at most `limit` (1..1000). */
  list(afterId: number, limit: number): Promise<BotRecord[]>;
  /** The bots among `userIds`, ascending (one query: recent sessions). */
  among(userIds: readonly number[]): Promise<BotRecord[]>;
  /** The webhooks (with secrets) of the bots among `userIds`, ascending (one query: the job). */
  webhooksAmong(userIds: readonly number[]): Promise<BotWebhook[]>;
  /** The bots that are members of the groups `groupIds`, by group then user (one query: the job). */
  inGroups(groupIds: readonly number[]): Promise<GroupBot[]>;
  /** Replaces the bot's signing secret; false when the user is not a bot. */
  rotateSecret(userId: number, secret: string): Promise<boolean>;
  /** True when the user was a bot. */
  remove(userId: number): Promise<boolean>;
}
