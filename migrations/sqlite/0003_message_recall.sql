-- mqim schema 0003 for SQLite: same table as migrations/mysql/0003_message_recall.sql (see that
-- file for why).
CREATE TABLE IF NOT EXISTS im_message_recall (
  session_type INTEGER NOT NULL,
  peer_lo INTEGER NOT NULL,
  peer_hi INTEGER NOT NULL,
  server_msg_id INTEGER NOT NULL,
  recalled_by INTEGER NOT NULL,
  recalled_at INTEGER NOT NULL,
  PRIMARY KEY (session_type, peer_lo, peer_hi, server_msg_id)
) WITHOUT ROWID, STRICT;
