-- mqim schema 0007 (issue 13, ADR 0016): a signing secret per bot. The job signs a bot's webhook
-- calls with its own secret, so one bot's receiver cannot forge or verify another's traffic. It is
-- kept as it is, not hashed: HMAC signing needs the secret itself. NULL = a bot flagged before
-- this migration; it keeps being signed with MQIM_HOOK_SECRET until its secret is rotated.
--
-- MySQL 8 has no ADD COLUMN IF NOT EXISTS (MariaDB does): the DDL runs only when
-- information_schema says it is still missing, so re-running after a crash half-way is harmless.

SET @mqim_ddl = IF((SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = 'im_bot' AND column_name = 'secret') = 0, 'ALTER TABLE im_bot ADD COLUMN secret VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NULL DEFAULT NULL', 'DO 0');
PREPARE mqim_stmt FROM @mqim_ddl;
EXECUTE mqim_stmt;
DEALLOCATE PREPARE mqim_stmt;
