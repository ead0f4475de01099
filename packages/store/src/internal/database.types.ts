import type { ColumnType, Generated } from 'kysely';

// Kysely table types. Integer columns read as `unknown`-ish unions because mysql2 returns
// BIGINT as a string once it leaves the safe range; every read goes through `readInt`.
type Int = ColumnType<number | string | bigint, number, number>;
type NullableInt = ColumnType<number | string | bigint | null, number | null, number | null>;
type Blob = ColumnType<Buffer, Buffer, Buffer>;

export interface MetaTable {
  meta_key: string;
  meta_value: string;
}

export interface UserTable {
  user_id: ColumnType<number | string | bigint, number | undefined, never>;
  user_name: string | null;
  /** Lower-cased user_name, unique (migration 0002). */
  user_name_key: string | null;
  nick_name: string;
  nick_name_spell: string;
  phone: string;
  avatar_url: string;
  attach_info: string;
  /** Rows from before migration 0002 only, until their next login. */
  password_md5: string | null;
  /** scrypt over the MD5 (see internal/password-hash.ts). */
  password_hash: string | null;
  created_at: Int;
  updated_at: Int;
}

export interface UserTokenTable {
  user_id: Int;
  token_sha256: string;
  created_at: Int;
  expires_at: NullableInt;
}

export interface MessageSendTable {
  id: Generated<number | string | bigint>;
  server_msg_id: Int;
  client_msg_id: string;
  from_user_id: Int;
  session_type: Int;
  to_session_id: Int;
  msg_type: Int;
  msg_data: Blob;
  attach: string;
  sender_client_type: Int;
  msg_status: Int;
  create_time: Int;
}

export interface MessageRecvTable {
  owner_user_id: Int;
  session_type: Int;
  session_id: Int;
  server_msg_id: Int;
  client_msg_id: string;
  from_user_id: Int;
  msg_type: Int;
  msg_data: Blob;
  attach: string;
  sender_client_type: Int;
  msg_status: Int;
  create_time: Int;
}

export interface ConversationTable {
  session_type: Int;
  peer_lo: Int;
  peer_hi: Int;
  max_server_msg_id: Int;
  updated_time: Int;
}

/** Migration 0003: one row per recalled message, keyed like `im_conversation` plus the id. */
export interface MessageRecallTable {
  session_type: Int;
  peer_lo: Int;
  peer_hi: Int;
  server_msg_id: Int;
  recalled_by: Int;
  recalled_at: Int;
}

export interface SessionTable {
  owner_user_id: Int;
  session_type: Int;
  session_id: Int;
  status: Int;
  unread_cnt: Int;
  read_up_to: Int;
  last_server_msg_id: Int;
  last_client_msg_id: string;
  last_from_user_id: Int;
  last_msg_type: Int;
  last_msg_data: Blob;
  last_attach: string;
  last_msg_status: Int;
  last_create_time: Int;
  updated_time: Int;
}

export interface AckTimeTable {
  owner_user_id: Int;
  session_type: Int;
  session_id: Int;
  delivered_msg_id: Int;
  delivered_at_ms: Int;
  read_msg_id: Int;
  read_at_ms: Int;
}

export interface GroupTable {
  group_id: ColumnType<number | string | bigint, never, never>;
  group_name: string;
  group_type: Int;
  owner_user_id: Int;
  join_model: Int;
  be_invite_model: Int;
  mute_model: Int;
  group_intro: string;
  announcement: string;
  group_avatar: string;
  version: Int;
  status: Int;
  created_at: Int;
  updated_at: Int;
}

export interface GroupMemberTable {
  group_id: Int;
  user_id: Int;
  joined_at: Int;
  /** 0 member, 1 admin (migration 0005). */
  role: ColumnType<number | string | bigint, number | undefined, number>;
}

/** One muted user of a group (migration 0005); kept when the user leaves the group (ADR 0015). */
export interface GroupMuteTable {
  group_id: Int;
  user_id: Int;
  created_at: Int;
}

export interface PushDeviceTable {
  user_id: Int;
  platform: string;
  device_token: string;
  client_type: Int;
  updated_at: Int;
}

export interface SessionMuteTable {
  owner_user_id: Int;
  session_type: Int;
  session_id: Int;
  created_at: Int;
}

/** Migration 0004: one row per direction of a friendship. */
export interface FriendTable {
  owner_user_id: Int;
  friend_user_id: Int;
  created_at: Int;
}

export interface FriendRequestTable {
  from_user_id: Int;
  to_user_id: Int;
  note: string;
  created_at: Int;
}

export interface BlockTable {
  owner_user_id: Int;
  blocked_user_id: Int;
  created_at: Int;
}

/** 0006: bots (ADR 0016). */
export interface BotTable {
  user_id: Int;
  webhook_url: string;
  /** 0007: the bot's own signing secret; NULL = MQIM_HOOK_SECRET. */
  secret: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: Int;
  updated_at: Int;
}

/** 0006: scheduled messages. */
export interface ScheduledMessageTable {
  schedule_id: ColumnType<number | string | bigint, never, never>;
  user_id: Int;
  session_type: Int;
  to_session_id: Int;
  msg_type: Int;
  msg_data: Blob;
  system_sender: Int;
  created_by_api: Int;
  request_key: string | null;
  send_at_ms: Int;
  status: Int;
  version: Int;
  armed_version: Int;
  server_msg_id: Int;
  error: string;
  created_at_ms: Int;
  updated_at_ms: Int;
}

export type SendShardName = `im_message_send_${number}`;
export type RecvShardName = `im_message_recv_${number}`;

export interface StoreDatabase {
  im_store_meta: MetaTable;
  im_user: UserTable;
  im_user_token: UserTokenTable;
  im_conversation: ConversationTable;
  im_message_recall: MessageRecallTable;
  im_session: SessionTable;
  im_ack_time: AckTimeTable;
  im_group: GroupTable;
  im_group_member: GroupMemberTable;
  im_group_mute: GroupMuteTable;
  im_push_device: PushDeviceTable;
  im_session_mute: SessionMuteTable;
  im_friend: FriendTable;
  im_friend_request: FriendRequestTable;
  im_block: BlockTable;
  im_bot: BotTable;
  im_scheduled_message: ScheduledMessageTable;
  [send: SendShardName]: MessageSendTable;
  [recv: RecvShardName]: MessageRecvTable;
}
