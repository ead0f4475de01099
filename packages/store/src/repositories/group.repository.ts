import { sql, type Selectable, type Updateable } from 'kysely';
import { chunkRows } from '../internal/chunk';
import type { GroupTable } from '../internal/database.types';
import { assertId, assertText, assertUint, readInt, readId } from '../internal/ids';
import { nowSeconds, type Db, type StoreContext } from '../internal/store-context';
import type {
  GroupMemberState,
  GroupPatch,
  GroupReaders,
  GroupRecord,
  GroupRepository,
  NewGroup,
} from '../group.port';
import { uniqueIds } from './user.repository';

const ACTIVE = 1;
const DISBANDED = 2;
const MEMBER = 0;
const ADMIN = 1;
const GROUP_SESSION = 2;

export class KyselyGroupRepository implements GroupRepository {
  constructor(private readonly ctx: StoreContext) {}

  async create(group: NewGroup, memberIds: readonly number[]): Promise<GroupRecord> {
    const owner = assertId(group.ownerUserId, 'ownerUserId');
    const members = uniqueIds([owner, ...memberIds], 'memberIds');
    const now = nowSeconds(this.ctx);
    const values = {
      group_name: assertText(group.name, 128, 'name'),
      group_type: assertUint(group.groupType ?? 1, 255, 'groupType'),
      owner_user_id: owner,
      join_model: assertUint(group.joinModel ?? 0, 255, 'joinModel'),
      be_invite_model: assertUint(group.beInviteModel ?? 0, 255, 'beInviteModel'),
      mute_model: assertUint(group.muteModel ?? 0, 255, 'muteModel'),
      group_intro: assertText(group.intro ?? '', 512, 'intro'),
      announcement: assertText(group.announcement ?? '', 16_000, 'announcement'),
      group_avatar: assertText(group.avatar ?? '', 512, 'avatar'),
      version: 1,
      status: ACTIVE,
      created_at: now,
      updated_at: now,
    };
    const groupId = await this.ctx.transaction(async (trx) => {
      const result = await trx.insertInto('im_group').values(values).executeTakeFirst();
      const id = readId(result.insertId, 'group_id');
      await insertMembers(trx, this.ctx, id, members, now);
      return id;
    });
    return (await this.get(groupId))!;
  }

  async get(groupId: number): Promise<GroupRecord | null> {
    const row = await this.ctx.db
      .selectFrom('im_group')
      .selectAll()
      .where('group_id', '=', assertId(groupId, 'groupId'))
      .executeTakeFirst();
    return row ? toGroup(row) : null;
  }

  async getMany(groupIds: readonly number[]): Promise<GroupRecord[]> {
    const ids = uniqueIds(groupIds, 'groupIds');
    if (ids.length === 0) return [];
    const rows = await this.ctx.db
      .selectFrom('im_group')
      .selectAll()
      .where('group_id', 'in', ids)
      .orderBy('group_id')
      .execute();
    return rows.map(toGroup);
  }

  async listForUser(userId: number): Promise<GroupRecord[]> {
    const rows = await this.ctx.db
      .selectFrom('im_group_member as m')
      .innerJoin('im_group as g', 'g.group_id', 'm.group_id')
      .selectAll('g')
      .where('m.user_id', '=', assertId(userId, 'userId'))
      .where('g.status', '=', ACTIVE)
      .orderBy('g.group_id')
      .execute();
    return rows.map(toGroup);
  }

  async members(groupId: number): Promise<number[]> {
    const rows = await this.ctx.db
      .selectFrom('im_group_member')
      .select('user_id')
      .where('group_id', '=', assertId(groupId, 'groupId'))
      .orderBy('user_id')
      .execute();
    return rows.map((r) => readId(r.user_id, 'user_id'));
  }

  async isMember(groupId: number, userId: number): Promise<boolean> {
    const row = await this.ctx.db
      .selectFrom('im_group_member')
      .select('user_id')
      .where('group_id', '=', assertId(groupId, 'groupId'))
      .where('user_id', '=', assertId(userId, 'userId'))
      .executeTakeFirst();
    return row !== undefined;
  }

  async addMembers(groupId: number, userIds: readonly number[]): Promise<number[]> {
    assertId(groupId, 'groupId');
    const ids = uniqueIds(userIds, 'userIds');
    if (ids.length === 0) return [];
    const now = nowSeconds(this.ctx);
    return this.ctx.transaction(async (trx) => {
      if (!(await lockGroup(trx, this.ctx, groupId))) return [];
      const existing = new Set(await memberIdsAmong(trx, groupId, ids));
      const added = ids.filter((id) => !existing.has(id));
      if (added.length === 0) return [];
      await insertMembers(trx, this.ctx, groupId, added, now);
      await bumpVersion(trx, groupId, now);
      return added;
    });
  }

  async removeMembers(groupId: number, userIds: readonly number[]): Promise<number[]> {
    assertId(groupId, 'groupId');
    const ids = uniqueIds(userIds, 'userIds');
    if (ids.length === 0) return [];
    const now = nowSeconds(this.ctx);
    return this.ctx.transaction(async (trx) => {
      if (!(await lockGroup(trx, this.ctx, groupId))) return [];
      const removed = await memberIdsAmong(trx, groupId, ids);
      if (removed.length === 0) return [];
      await trx
        .deleteFrom('im_group_member')
        .where('group_id', '=', groupId)
        .where('user_id', 'in', removed)
        .execute();
      await bumpVersion(trx, groupId, now);
      return removed;
    });
  }

  async update(groupId: number, patch: GroupPatch): Promise<GroupRecord | null> {
    assertId(groupId, 'groupId');
    const set: Updateable<GroupTable> = {};
    if (patch.name !== undefined) set.group_name = assertText(patch.name, 128, 'name');
    if (patch.groupType !== undefined) set.group_type = assertUint(patch.groupType, 255, 'groupType');
    if (patch.joinModel !== undefined) set.join_model = assertUint(patch.joinModel, 255, 'joinModel');
    if (patch.beInviteModel !== undefined)
      set.be_invite_model = assertUint(patch.beInviteModel, 255, 'beInviteModel');
    if (patch.muteModel !== undefined) set.mute_model = assertUint(patch.muteModel, 255, 'muteModel');
    if (patch.intro !== undefined) set.group_intro = assertText(patch.intro, 512, 'intro');
    if (patch.announcement !== undefined)
      set.announcement = assertText(patch.announcement, 16_000, 'announcement');
    if (patch.avatar !== undefined) set.group_avatar = assertText(patch.avatar, 512, 'avatar');
    if (Object.keys(set).length > 0) {
      // Only a column that really changes bumps the version: a retried rename or mute-all (same
      // values) leaves the group as it is.
      const changed = (Object.entries(set) as [keyof GroupTable, unknown][]).map(
        ([column, value]) => sql<boolean>`${sql.ref(column)} <> ${value}`,
      );
      await this.ctx.db
        .updateTable('im_group')
        .set({ ...set, version: sql`version + 1`, updated_at: nowSeconds(this.ctx) })
        .where('group_id', '=', groupId)
        .where(sql<boolean>`(${sql.join(changed, sql` OR `)})`)
        .execute();
    }
    return this.get(groupId);
  }

  async disband(groupId: number): Promise<boolean> {
    const result = await this.ctx.db
      .updateTable('im_group')
      .set({ status: DISBANDED, version: sql`version + 1`, updated_at: nowSeconds(this.ctx) })
      .where('group_id', '=', assertId(groupId, 'groupId'))
      .where('status', '=', ACTIVE)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async memberStates(groupId: number): Promise<GroupMemberState[]> {
    const id = assertId(groupId, 'groupId');
    const rows = await this.ctx.db
      .selectFrom('im_group_member as m')
      .leftJoin('im_group_mute as u', (join) =>
        join.onRef('u.group_id', '=', 'm.group_id').onRef('u.user_id', '=', 'm.user_id'),
      )
      .select(['m.user_id', 'm.role', 'u.user_id as muted_id'])
      .where('m.group_id', '=', id)
      .orderBy('m.user_id')
      .execute();
    return rows.map((r) => ({
      userId: readId(r.user_id, 'user_id'),
      admin: readInt(r.role, 'role') === ADMIN,
      muted: r.muted_id !== null,
    }));
  }

  setAdmin(groupId: number, userId: number, admin: boolean): Promise<boolean> {
    assertId(groupId, 'groupId');
    assertId(userId, 'userId');
    const role = admin ? ADMIN : MEMBER;
    const now = nowSeconds(this.ctx);
    return this.ctx.transaction(async (trx) => {
      if (!(await lockGroup(trx, this.ctx, groupId))) return false;
      const result = await trx
        .updateTable('im_group_member')
        .set({ role })
        .where('group_id', '=', groupId)
        .where('user_id', '=', userId)
        .where('role', '<>', role)
        .executeTakeFirst();
      if (result.numUpdatedRows === 0n) return false;
      await bumpVersion(trx, groupId, now);
      return true;
    });
  }

  /**
   * The mute is a row of im_group_mute, not a member column: it stays when the member leaves, so
   * leaving and being invited again does not lift it (ADR 0015). Only members can be muted.
   */
  setMuted(groupId: number, userId: number, muted: boolean): Promise<boolean> {
    assertId(groupId, 'groupId');
    assertId(userId, 'userId');
    const now = nowSeconds(this.ctx);
    return this.ctx.transaction(async (trx) => {
      if (!(await lockGroup(trx, this.ctx, groupId))) return false;
      if ((await memberIdsAmong(trx, groupId, [userId])).length === 0) return false;
      const existing = await trx
        .selectFrom('im_group_mute')
        .select('user_id')
        .where('group_id', '=', groupId)
        .where('user_id', '=', userId)
        .executeTakeFirst();
      if ((existing !== undefined) === muted) return false;
      if (muted)
        await trx
          .insertInto('im_group_mute')
          .values({ group_id: groupId, user_id: userId, created_at: now })
          .execute();
      else
        await trx
          .deleteFrom('im_group_mute')
          .where('group_id', '=', groupId)
          .where('user_id', '=', userId)
          .execute();
      await bumpVersion(trx, groupId, now);
      return true;
    });
  }

  async transferOwner(groupId: number, toUserId: number): Promise<boolean> {
    assertId(groupId, 'groupId');
    assertId(toUserId, 'toUserId');
    const now = nowSeconds(this.ctx);
    return this.ctx.transaction(async (trx) => {
      const group = await trx
        .selectFrom('im_group')
        .select('owner_user_id')
        .where('group_id', '=', groupId)
        .$if(this.ctx.sql.name === 'mysql', (qb) => qb.forUpdate())
        .executeTakeFirst();
      if (!group || readId(group.owner_user_id, 'owner_user_id') === toUserId) return false;
      if ((await memberIdsAmong(trx, groupId, [toUserId])).length === 0) return false;
      // The owner has no role and cannot be muted.
      await trx
        .updateTable('im_group_member')
        .set({ role: MEMBER })
        .where('group_id', '=', groupId)
        .where('user_id', '=', toUserId)
        .execute();
      await trx
        .deleteFrom('im_group_mute')
        .where('group_id', '=', groupId)
        .where('user_id', '=', toUserId)
        .execute();
      await trx
        .updateTable('im_group')
        .set({ owner_user_id: toUserId, version: sql`version + 1`, updated_at: now })
        .where('group_id', '=', groupId)
        .execute();
      return true;
    });
  }

  async readers(
    groupId: number,
    msgs: readonly { serverMsgId: number; fromUserId: number; createTime: number }[],
    listUpTo: number,
  ): Promise<GroupReaders[]> {
    assertId(groupId, 'groupId');
    if (msgs.length === 0) return [];
    // One read of every member's mark: a group's marks are at most its member count, and the
    // counts of all the asked messages come from them (no row per message and reader is kept).
    const rows = await this.ctx.db
      .selectFrom('im_group_member as m')
      .leftJoin('im_session as s', (join) =>
        join
          .onRef('s.owner_user_id', '=', 'm.user_id')
          .on('s.session_type', '=', GROUP_SESSION)
          .on('s.session_id', '=', groupId),
      )
      .select(['m.user_id', 'm.joined_at', 's.read_up_to'])
      .where('m.group_id', '=', groupId)
      .orderBy('m.user_id')
      .execute();
    const marks = rows.map((r) => ({
      userId: readId(r.user_id, 'user_id'),
      joinedAt: readInt(r.joined_at, 'joined_at'),
      readUpTo: r.read_up_to === null ? 0 : readInt(r.read_up_to, 'read_up_to'),
    }));
    return msgs.map(({ serverMsgId, fromUserId, createTime }) => {
      // Who joined after the message was sent never had it: neither a reader nor an unread one.
      const others = marks.filter((m) => m.userId !== fromUserId && m.joinedAt <= createTime);
      const read = others.filter((m) => m.readUpTo >= serverMsgId).map((m) => m.userId);
      return {
        readCount: read.length,
        otherMembers: others.length,
        readerIds: read.length <= listUpTo ? read : [],
      };
    });
  }
}

/**
 * Locks the group row (MySQL) so concurrent member changes of one group serialise and the
 * version bump counts each of them; false when the group does not exist.
 */
async function lockGroup(trx: Db, ctx: StoreContext, groupId: number): Promise<boolean> {
  const row = await trx
    .selectFrom('im_group')
    .select('group_id')
    .where('group_id', '=', groupId)
    .$if(ctx.sql.name === 'mysql', (qb) => qb.forUpdate())
    .executeTakeFirst();
  return row !== undefined;
}

async function memberIdsAmong(trx: Db, groupId: number, ids: readonly number[]): Promise<number[]> {
  const rows = await trx
    .selectFrom('im_group_member')
    .select('user_id')
    .where('group_id', '=', groupId)
    .where('user_id', 'in', [...ids])
    .orderBy('user_id')
    .execute();
  return rows.map((r) => readId(r.user_id, 'user_id'));
}

async function insertMembers(
  trx: Db,
  ctx: StoreContext,
  groupId: number,
  userIds: readonly number[],
  now: number,
): Promise<void> {
  const rows = userIds.map((userId) => ({ group_id: groupId, user_id: userId, joined_at: now }));
  for (const chunk of chunkRows(rows, { maxParams: ctx.sql.maxParams, columns: 3 })) {
    await trx.insertInto('im_group_member').values(chunk).execute();
  }
}

async function bumpVersion(trx: Db, groupId: number, now: number): Promise<void> {
  await trx
    .updateTable('im_group')
    .set({ version: sql`version + 1`, updated_at: now })
    .where('group_id', '=', groupId)
    .execute();
}

function toGroup(row: Selectable<GroupTable>): GroupRecord {
  return {
    groupId: readId(row.group_id, 'group_id'),
    name: row.group_name,
    groupType: readInt(row.group_type, 'group_type'),
    ownerUserId: readId(row.owner_user_id, 'owner_user_id'),
    joinModel: readInt(row.join_model, 'join_model'),
    beInviteModel: readInt(row.be_invite_model, 'be_invite_model'),
    muteModel: readInt(row.mute_model, 'mute_model'),
    intro: row.group_intro,
    announcement: row.announcement,
    avatar: row.group_avatar,
    version: readInt(row.version, 'version'),
    status: readInt(row.status, 'status') === DISBANDED ? 'disbanded' : 'active',
    createdAt: readInt(row.created_at, 'created_at'),
    updatedAt: readInt(row.updated_at, 'updated_at'),
  };
}
