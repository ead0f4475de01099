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

/** A member's role and mute (issue 12). The owner is `GroupRecord.ownerUserId`, never a role. */
export interface GroupMemberState {
  readonly userId: number;
  readonly admin: boolean;
  /** The member may not send to the group (mute-all is `GroupRecord.muteModel`). */
  readonly muted: boolean;
}

/** Who read a group message, from the members' read marks (`im_session.read_up_to`). */
export interface GroupReaders {
  /**
   * Current members other than the message's sender, who were members when it was sent
   * (joined_at ≤ its create time), whose read mark is at or past it.
   */
  readonly readCount: number;
  /** Current members other than the sender who were members when it was sent. */
  readonly otherMembers: number;
  /** The readers, ascending; only when `readCount` ≤ the query's `listUpTo`, else empty. */
  readonly readerIds: number[];
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
  /**
   * Changes group info; null when the group does not exist. The version is bumped only when a
   * column actually changes (a patch of values already so changes nothing).
   */
  update(groupId: number, patch: GroupPatch): Promise<GroupRecord | null>;
  /** Marks the group disbanded (members are kept for history); false if absent or already so. */
  disband(groupId: number): Promise<boolean>;

  // Roles and mutes (issue 12). Idempotent like member changes: setting what is already so changes
  // nothing, returns false and does not bump the version. Removing a member ends its role; a mute
  // is kept across leaving and being invited again (ADR 0015).
  /** Every member with its role and mute, ascending by user id (one query: sends use it). */
  memberStates(groupId: number): Promise<GroupMemberState[]>;
  /** Makes a member an admin or a plain member; false when not a member or already so. */
  setAdmin(groupId: number, userId: number, admin: boolean): Promise<boolean>;
  /** Mutes or unmutes a member; false when not a member or already so. */
  setMuted(groupId: number, userId: number, muted: boolean): Promise<boolean>;
  /**
   * Makes member `toUserId` the owner (its admin role and mute end; the old owner stays a plain
   * member), atomically: false when the group is absent, `toUserId` is not a member, or already
   * the owner.
   */
  transferOwner(groupId: number, toUserId: number): Promise<boolean>;
  /** Read counts of the group messages `msgs` (server id, sender, create time), in their order. */
  readers(
    groupId: number,
    msgs: readonly { serverMsgId: number; fromUserId: number; createTime: number }[],
    listUpTo: number,
  ): Promise<GroupReaders[]>;
}
