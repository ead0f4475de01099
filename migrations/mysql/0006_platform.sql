-- mqim schema 0006 (issue 13, ADR 0016): bots and scheduled messages. A bot is an ordinary user (it logs in, sends
-- through the API) with a row here: messages sent to it in single chats are POSTed by the job to
-- its webhook_url (signed like every mqim webhook). Deleting the row makes it a plain user again.
CREATE TABLE IF NOT EXISTS im_bot (
  user_id BIGINT UNSIGNED NOT NULL,
  webhook_url VARCHAR(512) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  created_at INT UNSIGNED NOT NULL,
  updated_at INT UNSIGNED NOT NULL,
  PRIMARY KEY (user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Scheduled messages (docs/api.md#scheduled-messages): a message to send at send_at_ms, up to 30
-- days ahead. status 0 pending, 1 firing (claimed by a sender, being sent), 2 sent, 3 cancelled,
-- 4 failed (refused at send time). version grows with each reschedule; armed_version is the
-- version a broker timer was published for. The message goes out with client_msg_id
-- `sch-<schedule_id>`, so sending it twice stores it once (the outbox's unique key).
-- created_by_api: made through the API (a trusted business server), so it is sent as the api's
-- (it may carry msg_type 9); a client's row never is. request_key: a client's create request
-- (logic's request key), unique per user, so a redelivered create answers from its row (NULL: API).
CREATE TABLE IF NOT EXISTS im_scheduled_message (
  schedule_id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  user_id BIGINT UNSIGNED NOT NULL,
  session_type TINYINT UNSIGNED NOT NULL,
  to_session_id BIGINT UNSIGNED NOT NULL,
  msg_type SMALLINT UNSIGNED NOT NULL,
  msg_data BLOB NOT NULL,
  system_sender TINYINT UNSIGNED NOT NULL DEFAULT 0,
  created_by_api TINYINT UNSIGNED NOT NULL DEFAULT 0,
  request_key VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL DEFAULT NULL,
  send_at_ms BIGINT UNSIGNED NOT NULL,
  status TINYINT UNSIGNED NOT NULL DEFAULT 0,
  version INT UNSIGNED NOT NULL DEFAULT 1,
  armed_version INT UNSIGNED NOT NULL DEFAULT 0,
  server_msg_id BIGINT UNSIGNED NOT NULL DEFAULT 0,
  error VARCHAR(128) NOT NULL DEFAULT '',
  created_at_ms BIGINT UNSIGNED NOT NULL,
  updated_at_ms BIGINT UNSIGNED NOT NULL,
  PRIMARY KEY (schedule_id),
  KEY idx_sched_due (status, send_at_ms),
  KEY idx_sched_user (user_id, status, send_at_ms),
  UNIQUE KEY uk_sched_request (user_id, request_key)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
