-- mqim schema 0006 for SQLite: same table as migrations/mysql/0006_platform.sql (see that file).
CREATE TABLE IF NOT EXISTS im_bot (
  user_id INTEGER NOT NULL PRIMARY KEY,
  webhook_url TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
