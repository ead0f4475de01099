-- mqim schema 0005: group roles and member mutes (issue 12, ADR 0015).
--
-- im_group_member.role: 0 member, 1 admin (the owner is im_group.owner_user_id, never a role). It
-- lives on the member row, so removing a member ends its role with it.
-- im_group_mute: one row per muted user of a group. Kept apart from the member row on purpose: a
-- mute outlives leaving and being invited again (it is a moderator's decision about the user, not
-- about one membership); only an unmute or taking over the group as its owner ends it.
-- Mute-all is im_group.mute_model (CIMGroupMuteModel, already in 0001).
--
-- MySQL 8 has no ADD COLUMN IF NOT EXISTS (MariaDB does): the DDL runs only when
-- information_schema says it is still missing, so re-running after a crash half-way is harmless.

SET @mqim_ddl = IF((SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = 'im_group_member' AND column_name = 'role') = 0, 'ALTER TABLE im_group_member ADD COLUMN role TINYINT UNSIGNED NOT NULL DEFAULT 0', 'DO 0');
PREPARE mqim_stmt FROM @mqim_ddl;
EXECUTE mqim_stmt;
DEALLOCATE PREPARE mqim_stmt;

CREATE TABLE IF NOT EXISTS im_group_mute (
  group_id BIGINT UNSIGNED NOT NULL,
  user_id BIGINT UNSIGNED NOT NULL,
  created_at INT UNSIGNED NOT NULL,
  PRIMARY KEY (group_id, user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
