-- mqim schema 0002 for SQLite: same columns as migrations/mysql/0002_user_name_key_password_hash.sql
-- (see that file for why). SQLite runs the whole migration in one transaction.

ALTER TABLE im_user ADD COLUMN user_name_key TEXT NULL;

ALTER TABLE im_user ADD COLUMN password_hash TEXT NULL;

UPDATE im_user SET user_name_key = lower(user_name)
  WHERE user_id IN (SELECT MIN(user_id) FROM im_user WHERE user_name IS NOT NULL GROUP BY lower(user_name));

CREATE UNIQUE INDEX IF NOT EXISTS uk_user_name_key ON im_user (user_name_key);
