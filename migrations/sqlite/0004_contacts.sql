-- mqim schema 0004 for SQLite: same tables as migrations/mysql/0004_contacts.sql (see that file
-- for what they hold).

CREATE TABLE IF NOT EXISTS im_friend (
  owner_user_id INTEGER NOT NULL,
  friend_user_id INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (owner_user_id, friend_user_id)
) WITHOUT ROWID, STRICT;

CREATE TABLE IF NOT EXISTS im_friend_request (
  from_user_id INTEGER NOT NULL,
  to_user_id INTEGER NOT NULL,
  note TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  PRIMARY KEY (from_user_id, to_user_id)
) WITHOUT ROWID, STRICT;

CREATE INDEX IF NOT EXISTS idx_friend_request_to ON im_friend_request (to_user_id);

CREATE TABLE IF NOT EXISTS im_block (
  owner_user_id INTEGER NOT NULL,
  blocked_user_id INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (owner_user_id, blocked_user_id)
) WITHOUT ROWID, STRICT;
