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

/**
 * What a group send may do: refused with IM_ERR_GROUP_MUTED when this says so (null: may send).
 * `sender` is the sender's member state, undefined when it is not a member (then only a system
 * sender of the api gets here). Rules (ADR 0015): the owner always may send (it cannot be muted);
 * a muted member is muted whatever its role; admins are exempt from mute-all only. A system
 * sender that is not a member (an announcement, ADR 0011) is exempt; a member sending as a
 * system account is still that member, with its mute.
 */
export function muteReason(
  group: GroupRecord,
  sender: GroupMemberState | undefined,
  system: boolean,
): string | null {
  if (!sender) return system ? null : 'only members may send to a group';
  if (group.ownerUserId === sender.userId) return null;
  if (sender.muted) return 'you are muted in this group';
  if (group.muteModel === MUTE_ALL && !sender.admin)
    return 'the group is muted: only its owner and admins may send';
  return null;
}
