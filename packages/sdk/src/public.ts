// What both entries of @mqim/sdk export (Node: index.ts, browsers: browser.ts): everything but
// the transports. Not an entry itself.

export type {
  ImClient,
  ImClientEventName,
  ImClientEvents,
  ImClientListener,
  ImClientOptions,
} from './im.client';
export type { ReconnectOptions } from './reconnect.policy';

export {
  ImClientError,
  ImLoginFailedError,
  ImRequestFailedError,
  ImSendRefusedError,
  ImTimeoutError,
  type ImClientErrorCode,
  type ServerErrorDetail,
} from './im.errors';

export {
  ClientType,
  GroupMemberChangeType,
  MsgType,
  RECALLED_STATUS,
  SessionType,
  type ContactChange,
  type ContactNotice,
  type ContactState,
  type FriendRequest,
  type FriendRequests,
  type Presence,
  type ProfileUpdate,
  type TypingNotice,
  type CreateGroupInput,
  type CreateGroupResult,
  type DisconnectInfo,
  type GroupChangeResult,
  type GroupInfo,
  type GroupMemberChanged,
  type GroupReadReceipt,
  type GroupRoles,
  type GroupVersion,
  type HistoryQuery,
  type ImClientState,
  type ImMessage,
  type KickOutNotice,
  type LoginResult,
  type ReadNotify,
  type RecallInput,
  type RecallNotice,
  type RecallResult,
  type SyncConversation,
  type SyncConversationPage,
  type SyncConversationQuery,
  type SyncCursor,
  type SyncPage,
  type SyncPosition,
  type SyncQuery,
  type RecentSession,
  type RecentSessions,
  type ReconnectedInfo,
  type ReconnectingInfo,
  type RequestOptions,
  type ScheduleInput,
  type ScheduledMessage,
  type SendInput,
  type SendResult,
  type SessionLastMessage,
  type SessionRef,
  type UserInfo,
} from './im.types';

export { passwordMd5 } from './password';
export { newClientMsgId } from './client-msg-id';
