-- mqim schema 0003 for MySQL 8 / MariaDB 10.11: message recall (docs/adr/0013).
-- One row per recalled message, keyed by its conversation (single: the unordered pair
-- peer_lo < peer_hi; group: peer_lo = group id, peer_hi = 0, as im_conversation) and its
-- server_msg_id. Reads of the timelines overlay it (the body is withheld), so a recall is one
-- row whatever the size of the group, and also covers members who have left since.
CREATE TABLE IF NOT EXISTS im_message_recall (
  session_type TINYINT UNSIGNED NOT NULL,
  peer_lo BIGINT UNSIGNED NOT NULL,
  peer_hi BIGINT UNSIGNED NOT NULL,
  server_msg_id BIGINT UNSIGNED NOT NULL,
  recalled_by BIGINT UNSIGNED NOT NULL,
  recalled_at INT UNSIGNED NOT NULL,
  PRIMARY KEY (session_type, peer_lo, peer_hi, server_msg_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
