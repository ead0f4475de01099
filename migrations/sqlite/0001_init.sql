-- mqim schema 0001 for SQLite (the embedded store). Same tables and columns as
-- migrations/mysql/0001_init.sql; see that file for what each table is for.
-- STRICT tables so a wrongly typed value fails instead of being stored as something else;
-- WITHOUT ROWID where the primary key is the access path (clustered, like InnoDB).
-- AUTOINCREMENT on users and groups: a deleted id must never be handed out again.

CREATE TABLE IF NOT EXISTS im_store_meta (
  meta_key TEXT NOT NULL PRIMARY KEY,
  meta_value TEXT NOT NULL
) WITHOUT ROWID, STRICT;

INSERT INTO im_store_meta (meta_key, meta_value) VALUES ('shard_count', '{shards}')
  ON CONFLICT (meta_key) DO NOTHING;

CREATE TABLE IF NOT EXISTS im_user (
  user_id INTEGER PRIMARY KEY AUTOINCREMENT,
  user_name TEXT NULL UNIQUE,
  nick_name TEXT NOT NULL DEFAULT '',
  nick_name_spell TEXT NOT NULL DEFAULT '',
  phone TEXT NOT NULL DEFAULT '',
  avatar_url TEXT NOT NULL DEFAULT '',
  attach_info TEXT NOT NULL DEFAULT '',
  password_md5 TEXT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE IF NOT EXISTS im_user_token (
  user_id INTEGER NOT NULL,
  token_sha256 TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NULL,
  PRIMARY KEY (user_id, token_sha256)
) WITHOUT ROWID, STRICT;

CREATE TABLE IF NOT EXISTS im_message_send_{shard} (
  id INTEGER PRIMARY KEY,
  server_msg_id INTEGER NOT NULL,
  client_msg_id TEXT NOT NULL,
  from_user_id INTEGER NOT NULL,
  session_type INTEGER NOT NULL,
  to_session_id INTEGER NOT NULL,
  msg_type INTEGER NOT NULL,
  msg_data BLOB NOT NULL,
  attach TEXT NOT NULL,
  sender_client_type INTEGER NOT NULL,
  msg_status INTEGER NOT NULL,
  create_time INTEGER NOT NULL,
  UNIQUE (from_user_id, client_msg_id)
) STRICT;

CREATE TABLE IF NOT EXISTS im_message_recv_{shard} (
  owner_user_id INTEGER NOT NULL,
  session_type INTEGER NOT NULL,
  session_id INTEGER NOT NULL,
  server_msg_id INTEGER NOT NULL,
  client_msg_id TEXT NOT NULL,
  from_user_id INTEGER NOT NULL,
  msg_type INTEGER NOT NULL,
  msg_data BLOB NOT NULL,
  attach TEXT NOT NULL,
  sender_client_type INTEGER NOT NULL,
  msg_status INTEGER NOT NULL,
  create_time INTEGER NOT NULL,
  PRIMARY KEY (owner_user_id, session_type, session_id, server_msg_id)
) WITHOUT ROWID, STRICT;

CREATE TABLE IF NOT EXISTS im_conversation (
  session_type INTEGER NOT NULL,
  peer_lo INTEGER NOT NULL,
  peer_hi INTEGER NOT NULL,
  max_server_msg_id INTEGER NOT NULL,
  updated_time INTEGER NOT NULL,
  PRIMARY KEY (session_type, peer_lo, peer_hi)
) WITHOUT ROWID, STRICT;

CREATE TABLE IF NOT EXISTS im_session (
  owner_user_id INTEGER NOT NULL,
  session_type INTEGER NOT NULL,
  session_id INTEGER NOT NULL,
  status INTEGER NOT NULL DEFAULT 1,
  unread_cnt INTEGER NOT NULL DEFAULT 0,
  read_up_to INTEGER NOT NULL DEFAULT 0,
  last_server_msg_id INTEGER NOT NULL,
  last_client_msg_id TEXT NOT NULL,
  last_from_user_id INTEGER NOT NULL,
  last_msg_type INTEGER NOT NULL,
  last_msg_data BLOB NOT NULL,
  last_attach TEXT NOT NULL,
  last_msg_status INTEGER NOT NULL,
  last_create_time INTEGER NOT NULL,
  updated_time INTEGER NOT NULL,
  PRIMARY KEY (owner_user_id, session_type, session_id)
) WITHOUT ROWID, STRICT;

CREATE TABLE IF NOT EXISTS im_ack_time (
  owner_user_id INTEGER NOT NULL,
  session_type INTEGER NOT NULL,
  session_id INTEGER NOT NULL,
  delivered_msg_id INTEGER NOT NULL DEFAULT 0,
  delivered_at_ms INTEGER NOT NULL DEFAULT 0,
  read_msg_id INTEGER NOT NULL DEFAULT 0,
  read_at_ms INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (owner_user_id, session_type, session_id)
) WITHOUT ROWID, STRICT;

CREATE TABLE IF NOT EXISTS im_group (
  group_id INTEGER PRIMARY KEY AUTOINCREMENT,
  group_name TEXT NOT NULL,
  group_type INTEGER NOT NULL DEFAULT 1,
  owner_user_id INTEGER NOT NULL,
  join_model INTEGER NOT NULL DEFAULT 0,
  be_invite_model INTEGER NOT NULL DEFAULT 0,
  mute_model INTEGER NOT NULL DEFAULT 0,
  group_intro TEXT NOT NULL DEFAULT '',
  announcement TEXT NOT NULL DEFAULT '',
  group_avatar TEXT NOT NULL DEFAULT '',
  version INTEGER NOT NULL DEFAULT 1,
  status INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE IF NOT EXISTS im_group_member (
  group_id INTEGER NOT NULL,
  user_id INTEGER NOT NULL,
  joined_at INTEGER NOT NULL,
  PRIMARY KEY (group_id, user_id)
) WITHOUT ROWID, STRICT;

CREATE INDEX IF NOT EXISTS idx_member_user ON im_group_member (user_id);

CREATE TABLE IF NOT EXISTS im_push_device (
  user_id INTEGER NOT NULL,
  platform TEXT NOT NULL,
  device_token TEXT NOT NULL,
  client_type INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (user_id, platform, device_token)
) WITHOUT ROWID, STRICT;

CREATE TABLE IF NOT EXISTS im_session_mute (
  owner_user_id INTEGER NOT NULL,
  session_type INTEGER NOT NULL,
  session_id INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (owner_user_id, session_type, session_id)
) WITHOUT ROWID, STRICT;

CREATE INDEX IF NOT EXISTS idx_mute_session ON im_session_mute (session_type, session_id);
