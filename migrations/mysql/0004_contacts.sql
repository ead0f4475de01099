-- mqim schema 0004: contacts (issue 12, docs/adr/0014).
--
-- im_friend: one row per direction of a friendship (A->B and B->A), so "my contacts" is one
-- index range of the owner. Written and removed in pairs, in one transaction.
-- im_friend_request: a pending request from -> to; gone once answered (accepted or declined).
-- im_block: owner blocks blocked_user_id; the send path asks it for every single-chat message.

CREATE TABLE IF NOT EXISTS im_friend (
  owner_user_id BIGINT UNSIGNED NOT NULL,
  friend_user_id BIGINT UNSIGNED NOT NULL,
  created_at INT UNSIGNED NOT NULL,
  PRIMARY KEY (owner_user_id, friend_user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS im_friend_request (
  from_user_id BIGINT UNSIGNED NOT NULL,
  to_user_id BIGINT UNSIGNED NOT NULL,
  note VARCHAR(256) NOT NULL DEFAULT '',
  created_at INT UNSIGNED NOT NULL,
  PRIMARY KEY (from_user_id, to_user_id),
  -- "requests waiting for me".
  KEY idx_friend_request_to (to_user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS im_block (
  owner_user_id BIGINT UNSIGNED NOT NULL,
  blocked_user_id BIGINT UNSIGNED NOT NULL,
  created_at INT UNSIGNED NOT NULL,
  PRIMARY KEY (owner_user_id, blocked_user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
