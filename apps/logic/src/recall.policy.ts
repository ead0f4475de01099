import type { GroupRecord } from '@mqim/store';
import { mayModerateGroup } from './group.roles';
import type { LogicDeps } from './logic-deps';

/**
 * Whether `userId` may recall *any* member's message in `group` (a sender may always recall their
 * own, within the window). The one place that decides it: the group's moderators, its owner and
 * its admins (ADR 0015).
 */
export async function mayRecallInGroup(
  deps: LogicDeps,
  group: Pick<GroupRecord, 'groupId' | 'ownerUserId'>,
  userId: number,
): Promise<boolean> {
  if (group.ownerUserId === userId) return true;
  return mayModerateGroup(deps.store, group.groupId, userId);
}
