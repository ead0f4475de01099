-- mqim schema 0005: group roles and member mutes (issue 12, ADR 0015).
--
-- im_group_member.role: 0 member, 1 admin (the owner is im_group.owner_user_id, never a role).
-- im_group_member.muted: 1 when the member may not send to the group. Both live on the member row
-- so that removing a member ends its role and its mute with it. Mute-all is im_group.mute_model
-- (CIMGroupMuteModel, already in 0001).
--
-- MySQL 8 has no ADD COLUMN IF NOT EXISTS (MariaDB does): each DDL runs only when
-- information_schema says it is still missing, so re-running after a crash half-way is harmless.

SET @mqim_ddl = IF((SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = 'im_group_member' AND column_name = 'role') = 0, 'ALTER TABLE im_group_member ADD COLUMN role TINYINT UNSIGNED NOT NULL DEFAULT 0', 'DO 0');
PREPARE mqim_stmt FROM @mqim_ddl;
EXECUTE mqim_stmt;
DEALLOCATE PREPARE mqim_stmt;

SET @mqim_ddl = IF((SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = 'im_group_member' AND column_name = 'muted') = 0, 'ALTER TABLE im_group_member ADD COLUMN muted TINYINT UNSIGNED NOT NULL DEFAULT 0', 'DO 0');
PREPARE mqim_stmt FROM @mqim_ddl;
EXECUTE mqim_stmt;
DEALLOCATE PREPARE mqim_stmt;
