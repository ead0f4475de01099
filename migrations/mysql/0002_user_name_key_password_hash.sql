-- mqim schema 0002: case-insensitive user names and passwords hashed at rest (issue 10).
--
-- user_name_key: the lower-cased user name, unique, so "Alice" and "alice" cannot both register.
-- The store computes it (one function for both dialects); this migration backfills existing rows
-- with LOWER(). Names that already collide keep their exact-name login: only the lowest id of
-- each group gets the key, the others keep NULL (not a duplicate for the unique index).
--
-- password_hash: scrypt over the MD5 the CoffeeChat client sends
-- (`scrypt$<logN>$<r>$<p>$<salt>$<hash>`, base64url). Rows that still hold only password_md5 are
-- upgraded by the store at their next successful login, which then clears password_md5.
--
-- MySQL 8 has no ADD COLUMN IF NOT EXISTS (MariaDB does): each DDL runs only when
-- information_schema says it is still missing, so re-running after a crash half-way is harmless.

SET @mqim_ddl = IF((SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = 'im_user' AND column_name = 'user_name_key') = 0, 'ALTER TABLE im_user ADD COLUMN user_name_key VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL AFTER user_name', 'DO 0');
PREPARE mqim_stmt FROM @mqim_ddl;
EXECUTE mqim_stmt;
DEALLOCATE PREPARE mqim_stmt;

SET @mqim_ddl = IF((SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = 'im_user' AND column_name = 'password_hash') = 0, 'ALTER TABLE im_user ADD COLUMN password_hash VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NULL AFTER password_md5', 'DO 0');
PREPARE mqim_stmt FROM @mqim_ddl;
EXECUTE mqim_stmt;
DEALLOCATE PREPARE mqim_stmt;

UPDATE im_user u
  JOIN (SELECT MIN(user_id) AS user_id FROM im_user WHERE user_name IS NOT NULL GROUP BY LOWER(user_name)) f
    ON f.user_id = u.user_id
  SET u.user_name_key = LOWER(u.user_name)
  WHERE u.user_name_key IS NULL;

SET @mqim_ddl = IF((SELECT COUNT(*) FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = 'im_user' AND index_name = 'uk_user_name_key') = 0, 'ALTER TABLE im_user ADD UNIQUE KEY uk_user_name_key (user_name_key)', 'DO 0');
PREPARE mqim_stmt FROM @mqim_ddl;
EXECUTE mqim_stmt;
DEALLOCATE PREPARE mqim_stmt;
