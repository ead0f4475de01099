import type { GroupRecord } from '@mqim/store';
import type { LogicDeps } from './logic-deps';

/**
 * Whether `userId` may recall *any* member's message in `group` (a sender may always recall their
 * own, within the window). The one place that decides it: today the group owner; group admins
 * plug in here when the group roles exist (issue 12).
 */
export async function mayRecallInGroup(
  _deps: LogicDeps,
  group: Pick<GroupRecord, 'groupId' | 'ownerUserId'>,
  userId: number,
): Promise<boolean> {
  return group.ownerUserId === userId;
}
