-- mqim schema 0006 for SQLite: same tables as migrations/mysql/0006_platform.sql (see that file).
CREATE TABLE IF NOT EXISTS im_bot (
  user_id INTEGER NOT NULL PRIMARY KEY,
  webhook_url TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE IF NOT EXISTS im_scheduled_message (
  schedule_id INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id INTEGER NOT NULL,
  session_type INTEGER NOT NULL,
  to_session_id INTEGER NOT NULL,
  msg_type INTEGER NOT NULL,
  msg_data BLOB NOT NULL,
  system_sender INTEGER NOT NULL DEFAULT 0,
  created_by_api INTEGER NOT NULL DEFAULT 0,
  request_key TEXT DEFAULT NULL,
  send_at_ms INTEGER NOT NULL,
  status INTEGER NOT NULL DEFAULT 0,
  version INTEGER NOT NULL DEFAULT 1,
  armed_version INTEGER NOT NULL DEFAULT 0,
  server_msg_id INTEGER NOT NULL DEFAULT 0,
  error TEXT NOT NULL DEFAULT '',
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL
) STRICT;

CREATE INDEX IF NOT EXISTS idx_sched_due ON im_scheduled_message (status, send_at_ms);

CREATE INDEX IF NOT EXISTS idx_sched_user ON im_scheduled_message (user_id, status, send_at_ms);

CREATE UNIQUE INDEX IF NOT EXISTS uk_sched_request ON im_scheduled_message (user_id, request_key);
