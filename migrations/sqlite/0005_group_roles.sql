-- mqim schema 0005 for SQLite: same columns as migrations/mysql/0005_group_roles.sql (see that
-- file for why). SQLite runs the whole migration in one transaction.

ALTER TABLE im_group_member ADD COLUMN role INTEGER NOT NULL DEFAULT 0;

ALTER TABLE im_group_member ADD COLUMN muted INTEGER NOT NULL DEFAULT 0;
