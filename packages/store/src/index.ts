export type { Store, StoreDialect } from './store.port';
export type { BotRecord, BotRepository, BotWebhook, GroupBot } from './bot.port';
export type {
  NewScheduledMessage,
  ScheduleRepository,
  ScheduleStatus,
  ScheduledMessage,
} from './schedule.port';
export {
  RECALLED_MSG_STATUS,
  SessionType,
  type AfterQuery,
  type RecallMark,
  type ConversationRef,
  type HistoryQuery,
  type MessageRecord,
  type MessageRepository,
  type NewMessage,
  type SaveResult,
} from './message.port';
export {
  SessionStatus,
  type RecentSessionsQuery,
  type SessionKey,
  type SessionPosition,
  type SessionRecord,
  type SessionRepository,
} from './session.port';
export type { AckTimeRecord, DeliveredReceipt, ReceiptRepository } from './receipt.port';
export {
  MAX_EXPLICIT_USER_ID,
  type NewUser,
  type TokenRepository,
  type UserListQuery,
  type UserPatch,
  type UserRecord,
  type UserRepository,
} from './user.port';
export type {
  GroupMemberState,
  GroupPatch,
  GroupReaders,
  GroupRecord,
  GroupRepository,
  GroupStatus,
  NewGroup,
} from './group.port';
export type {
  ContactRepository,
  ContactState,
  FriendRequestRecord,
  RequestOutcome,
  RespondOutcome,
} from './contact.port';
export type {
  DeviceRepository,
  MuteRepository,
  PushDevice,
  PushDeviceRecord,
  PushPlatform,
} from './push.port';
export {
  MessageIdConflictError,
  StoreError,
  StoreInvalidArgumentError,
  StoreSchemaError,
  StoreUnavailableError,
  StoreOutcomeUnknownError,
  UserAlreadyExistsError,
} from './store.errors';
export { createSqliteStore, type SqliteStoreOptions } from './sqlite/sqlite.store';
export { createMysqlStore, type MysqlStoreOptions } from './mysql/mysql.store';
export { isTokenId, tokenIdOf } from './token-id';
export { DEFAULT_SHARDS } from './internal/shards';
