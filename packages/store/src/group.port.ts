/** `CIMGroupType`, `CIMGroupJoinModel`, ... are stored as their protocol numbers. */
export interface NewGroup {
  readonly name: string;
  readonly ownerUserId: number;
  /** @default 1 (NORMAL) */
  readonly groupType?: number;
  /** @default 0 */
  readonly joinModel?: number;
  /** @default 0 */
  readonly beInviteModel?: number;
  /** @default 0 */
  readonly muteModel?: number;
  /** @default '' */
  readonly intro?: string;
  /** @default '' */
  readonly announcement?: string;
  /** @default '' */
  readonly avatar?: string;
}

export type GroupPatch = Partial<Omit<NewGroup, 'ownerUserId'>>;

export type GroupStatus = 'active' | 'disbanded';

export interface GroupRecord {
  readonly groupId: number;
  readonly name: string;
  readonly groupType: number;
  readonly ownerUserId: number;
  readonly joinModel: number;
  readonly beInviteModel: number;
  readonly muteModel: number;
  readonly intro: string;
  readonly announcement: string;
  readonly avatar: string;
  /** Starts at 1; +1 on every change of info, members or status (clients refetch on change). */
  readonly version: number;
  readonly status: GroupStatus;
  /** Unix seconds. */
  readonly createdAt: number;
  readonly updatedAt: number;
}

/**
 * Groups and their members. Every mutation is one transaction; member changes are idempotent
 * (adding a member twice or removing a non-member changes nothing and does not bump the version).
 * Permission checks (who may invite, kick, disband) belong to `logic`, not here.
 */
export interface GroupRepository {
  /** Creates an active group whose members are the owner plus `memberIds`. */
  create(group: NewGroup, memberIds: readonly number[]): Promise<GroupRecord>;
  get(groupId: number): Promise<GroupRecord | null>;
  /** The groups that exist among `groupIds`, ascending by id. */
  getMany(groupIds: readonly number[]): Promise<GroupRecord[]>;
  /** Active groups the user is a member of, ascending by id. */
  listForUser(userId: number): Promise<GroupRecord[]>;
  /** Member ids, ascending. */
  members(groupId: number): Promise<number[]>;
  isMember(groupId: number, userId: number): Promise<boolean>;
  /** Adds members; returns the ids that were not members before, ascending. */
  addMembers(groupId: number, userIds: readonly number[]): Promise<number[]>;
  /** Removes members; returns the ids that were members, ascending. */
  removeMembers(groupId: number, userIds: readonly number[]): Promise<number[]>;
  /** Changes group info; null when the group does not exist. */
  update(groupId: number, patch: GroupPatch): Promise<GroupRecord | null>;
  /** Marks the group disbanded (members are kept for history); false if absent or already so. */
  disband(groupId: number): Promise<boolean>;
}
