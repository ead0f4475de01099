import { CIM } from '@mqim/protocol';
import type { GroupMemberState, GroupRecord, Store } from '@mqim/store';

const MUTE_ALL = CIM.Def.CIMGroupMuteModel.GROUP_MUTE_MODEL_ALL;

/**
 * May `userId` moderate group `groupId` — its owner, or one of its admins, while the group is
 * active? The one rule every moderation feature (mute, rename, kick by admins, recall of others'
 * messages) asks; false for unknown groups and strangers.
 */
export async function mayModerateGroup(store: Store, groupId: number, userId: number): Promise<boolean> {
  const group = await store.groups.get(groupId);
  if (!group || group.status !== 'active') return false;
  if (group.ownerUserId === userId) return true;
  return (await store.groups.memberStates(groupId)).some((m) => m.userId === userId && m.admin);
}

/** What a group send may do: refused with IM_ERR_GROUP_MUTED when this says so (null: may send). */
export function muteReason(
  group: GroupRecord,
  sender: GroupMemberState | undefined,
  system: boolean,
): string | null {
  if (system || group.ownerUserId === sender?.userId) return null;
  if (sender?.admin) return null;
  if (group.muteModel === MUTE_ALL) return 'the group is muted: only its owner and admins may send';
  if (sender?.muted) return 'you are muted in this group';
  return null;
}
