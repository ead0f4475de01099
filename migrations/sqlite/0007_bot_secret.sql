-- mqim schema 0007 for SQLite: same schema as migrations/mysql/0007_bot_secret.sql (see that file).

ALTER TABLE im_bot ADD COLUMN secret TEXT DEFAULT NULL;
