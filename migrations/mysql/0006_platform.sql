-- mqim schema 0006 (issue 13, ADR 0016): bots. A bot is an ordinary user (it logs in, sends
-- through the API) with a row here: messages sent to it in single chats are POSTed by the job to
-- its webhook_url (signed like every mqim webhook). Deleting the row makes it a plain user again.
CREATE TABLE IF NOT EXISTS im_bot (
  user_id BIGINT UNSIGNED NOT NULL,
  webhook_url VARCHAR(512) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  created_at INT UNSIGNED NOT NULL,
  updated_at INT UNSIGNED NOT NULL,
  PRIMARY KEY (user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
