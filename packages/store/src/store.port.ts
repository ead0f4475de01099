import type { ContactRepository } from './contact.port';
import type { BotRepository } from './bot.port';
import type { ScheduleRepository } from './schedule.port';
import type { GroupRepository } from './group.port';
import type { MessageRepository } from './message.port';
import type { DeviceRepository, MuteRepository } from './push.port';
import type { ReceiptRepository } from './receipt.port';
import type { SessionRepository } from './session.port';
import type { TokenRepository, UserRepository } from './user.port';

export type StoreDialect = 'sqlite' | 'mysql';

/**
 * The persistence port. Every method either commits all of its effects or none (one database
 * transaction), and resolves only after its effects are durable in the dialect's sense
 * (docs/storage.md). Connection failures reject with `StoreUnavailableError`, safe to retry
 * since every write is idempotent or atomic. Ids are positive safe integers.
 */
export interface Store {
  readonly dialect: StoreDialect;
  /** n in `im_message_send_{k}` / `im_message_recv_{k}`, k = user id mod n. */
  readonly shards: number;
  readonly users: UserRepository;
  readonly tokens: TokenRepository;
  readonly messages: MessageRepository;
  readonly sessions: SessionRepository;
  readonly receipts: ReceiptRepository;
  readonly groups: GroupRepository;
  readonly devices: DeviceRepository;
  readonly mutes: MuteRepository;
  /** Friends, friend requests and blocks (migration 0004). */
  readonly contacts: ContactRepository;
  readonly bots: BotRepository;
  readonly schedules: ScheduleRepository;
  /**
   * Applies pending migrations from `migrations/<dialect>/` (idempotent, serialised across
   * processes by a lock), then checks the shard count recorded in the database.
   */
  migrate(): Promise<void>;
  /** Waits for in-flight writes, then releases connections; later calls reject. Idempotent. */
  close(): Promise<void>;
}
