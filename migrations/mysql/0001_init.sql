-- mqim schema 0001 for MySQL 8 / MariaDB 10.11 (InnoDB, utf8mb4).
-- Rendered by packages/store (see migrations/README.md): a statement containing {shard} is
-- repeated for k = 0 .. n-1, {shards} becomes n. IF NOT EXISTS everywhere because MySQL DDL is
-- not transactional: a run that died half-way must be able to finish on the next attempt.
-- Ids are BIGINT UNSIGNED, times are Unix seconds (INT UNSIGNED) unless the name ends in _ms.

CREATE TABLE IF NOT EXISTS im_store_meta (
  meta_key VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  meta_value VARCHAR(255) NOT NULL,
  PRIMARY KEY (meta_key)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The shard count is fixed at creation: users are routed to shards by id % n, so changing n
-- would need a resharding tool. The store refuses to open with a different configured n.
INSERT INTO im_store_meta (meta_key, meta_value) VALUES ('shard_count', '{shards}')
  ON DUPLICATE KEY UPDATE meta_value = meta_value;

CREATE TABLE IF NOT EXISTS im_user (
  user_id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  -- Binary collation: names compare exactly, as they do in SQLite.
  user_name VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
  nick_name VARCHAR(128) NOT NULL DEFAULT '',
  nick_name_spell VARCHAR(128) NOT NULL DEFAULT '',
  phone VARCHAR(32) NOT NULL DEFAULT '',
  avatar_url VARCHAR(512) NOT NULL DEFAULT '',
  attach_info TEXT NOT NULL,
  password_md5 CHAR(32) CHARACTER SET ascii COLLATE ascii_bin NULL,
  created_at INT UNSIGNED NOT NULL,
  updated_at INT UNSIGNED NOT NULL,
  PRIMARY KEY (user_id),
  UNIQUE KEY uk_user_name (user_name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- sha256(token) only: a database dump must not hand out working tokens.
CREATE TABLE IF NOT EXISTS im_user_token (
  user_id BIGINT UNSIGNED NOT NULL,
  token_sha256 CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  created_at INT UNSIGNED NOT NULL,
  expires_at INT UNSIGNED NULL,
  PRIMARY KEY (user_id, token_sha256)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Outbox, sharded by sender. The unique key is what makes a retried send a no-op.
CREATE TABLE IF NOT EXISTS im_message_send_{shard} (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  server_msg_id BIGINT UNSIGNED NOT NULL,
  client_msg_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  from_user_id BIGINT UNSIGNED NOT NULL,
  session_type TINYINT UNSIGNED NOT NULL,
  to_session_id BIGINT UNSIGNED NOT NULL,
  msg_type SMALLINT UNSIGNED NOT NULL,
  msg_data BLOB NOT NULL,
  attach TEXT NOT NULL,
  sender_client_type SMALLINT UNSIGNED NOT NULL,
  msg_status SMALLINT UNSIGNED NOT NULL,
  create_time INT UNSIGNED NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uk_from_client (from_user_id, client_msg_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Timelines, sharded by owner: one row per owner per message (write diffusion). The primary key
-- is the clustered index, so one conversation's history is contiguous and a page of history is
-- a single range scan.
CREATE TABLE IF NOT EXISTS im_message_recv_{shard} (
  owner_user_id BIGINT UNSIGNED NOT NULL,
  session_type TINYINT UNSIGNED NOT NULL,
  session_id BIGINT UNSIGNED NOT NULL,
  server_msg_id BIGINT UNSIGNED NOT NULL,
  client_msg_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  from_user_id BIGINT UNSIGNED NOT NULL,
  msg_type SMALLINT UNSIGNED NOT NULL,
  msg_data BLOB NOT NULL,
  attach TEXT NOT NULL,
  sender_client_type SMALLINT UNSIGNED NOT NULL,
  msg_status SMALLINT UNSIGNED NOT NULL,
  create_time INT UNSIGNED NOT NULL,
  PRIMARY KEY (owner_user_id, session_type, session_id, server_msg_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Highest server_msg_id per conversation (single: unordered pair peer_lo < peer_hi; group:
-- peer_lo = group id, peer_hi = 0). One row per conversation, updated with every save, so the
-- cache can re-seed its counters with one primary-key read.
CREATE TABLE IF NOT EXISTS im_conversation (
  session_type TINYINT UNSIGNED NOT NULL,
  peer_lo BIGINT UNSIGNED NOT NULL,
  peer_hi BIGINT UNSIGNED NOT NULL,
  max_server_msg_id BIGINT UNSIGNED NOT NULL,
  updated_time INT UNSIGNED NOT NULL,
  PRIMARY KEY (session_type, peer_lo, peer_hi)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- One row per owner and conversation: the recent-contacts list with its durable unread count.
CREATE TABLE IF NOT EXISTS im_session (
  owner_user_id BIGINT UNSIGNED NOT NULL,
  session_type TINYINT UNSIGNED NOT NULL,
  session_id BIGINT UNSIGNED NOT NULL,
  status TINYINT UNSIGNED NOT NULL DEFAULT 1,
  unread_cnt INT UNSIGNED NOT NULL DEFAULT 0,
  read_up_to BIGINT UNSIGNED NOT NULL DEFAULT 0,
  last_server_msg_id BIGINT UNSIGNED NOT NULL,
  last_client_msg_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  last_from_user_id BIGINT UNSIGNED NOT NULL,
  last_msg_type SMALLINT UNSIGNED NOT NULL,
  last_msg_data BLOB NOT NULL,
  last_attach TEXT NOT NULL,
  last_msg_status SMALLINT UNSIGNED NOT NULL,
  last_create_time INT UNSIGNED NOT NULL,
  updated_time INT UNSIGNED NOT NULL,
  PRIMARY KEY (owner_user_id, session_type, session_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Delivery / read high-water marks, flushed in batches by the job. One table rather than shards:
-- it holds one row per owner and conversation (like im_session), not one per message. Kept out
-- of im_session so the job's batched flush never waits on row locks held by message saves.
CREATE TABLE IF NOT EXISTS im_ack_time (
  owner_user_id BIGINT UNSIGNED NOT NULL,
  session_type TINYINT UNSIGNED NOT NULL,
  session_id BIGINT UNSIGNED NOT NULL,
  delivered_msg_id BIGINT UNSIGNED NOT NULL DEFAULT 0,
  delivered_at_ms BIGINT UNSIGNED NOT NULL DEFAULT 0,
  read_msg_id BIGINT UNSIGNED NOT NULL DEFAULT 0,
  read_at_ms BIGINT UNSIGNED NOT NULL DEFAULT 0,
  PRIMARY KEY (owner_user_id, session_type, session_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS im_group (
  group_id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  group_name VARCHAR(128) NOT NULL,
  group_type TINYINT UNSIGNED NOT NULL DEFAULT 1,
  owner_user_id BIGINT UNSIGNED NOT NULL,
  join_model TINYINT UNSIGNED NOT NULL DEFAULT 0,
  be_invite_model TINYINT UNSIGNED NOT NULL DEFAULT 0,
  mute_model TINYINT UNSIGNED NOT NULL DEFAULT 0,
  group_intro VARCHAR(512) NOT NULL DEFAULT '',
  announcement TEXT NOT NULL,
  group_avatar VARCHAR(512) NOT NULL DEFAULT '',
  version INT UNSIGNED NOT NULL DEFAULT 1,
  status TINYINT UNSIGNED NOT NULL DEFAULT 1,
  created_at INT UNSIGNED NOT NULL,
  updated_at INT UNSIGNED NOT NULL,
  PRIMARY KEY (group_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS im_group_member (
  group_id BIGINT UNSIGNED NOT NULL,
  user_id BIGINT UNSIGNED NOT NULL,
  joined_at INT UNSIGNED NOT NULL,
  PRIMARY KEY (group_id, user_id),
  KEY idx_member_user (user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS im_push_device (
  user_id BIGINT UNSIGNED NOT NULL,
  platform VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  device_token VARCHAR(512) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  client_type SMALLINT UNSIGNED NOT NULL,
  updated_at INT UNSIGNED NOT NULL,
  PRIMARY KEY (user_id, platform, device_token)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS im_session_mute (
  owner_user_id BIGINT UNSIGNED NOT NULL,
  session_type TINYINT UNSIGNED NOT NULL,
  session_id BIGINT UNSIGNED NOT NULL,
  created_at INT UNSIGNED NOT NULL,
  PRIMARY KEY (owner_user_id, session_type, session_id),
  -- "which of these owners muted this group" is asked per group message by the push path.
  KEY idx_mute_session (session_type, session_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
