-- mqim schema 0005 for SQLite: same schema as migrations/mysql/0005_group_roles.sql (see that
-- file for why the mute has a table of its own). SQLite runs the whole migration in one transaction.

ALTER TABLE im_group_member ADD COLUMN role INTEGER NOT NULL DEFAULT 0;

CREATE TABLE IF NOT EXISTS im_group_mute (
  group_id INTEGER NOT NULL,
  user_id INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (group_id, user_id)
);
