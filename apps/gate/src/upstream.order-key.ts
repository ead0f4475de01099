import { CIM, CommandId, conversationKey, toId, type IdInput, SessionType } from '@mqim/protocol';

/** Body types of the group changes, which name the group they change in field 2 (`group_id`). */
const GROUP_CHANGES = new Map<number, { decode(bytes: Uint8Array): { groupId: IdInput } }>([
  [CommandId.GROUP_DISBINGDING_REQ, CIM.Group.CIMGroupDisbandingReq],
  [CommandId.GROUP_EXIT_REQ, CIM.Group.CIMGroupExitReq],
  [CommandId.GROUP_INVITE_MEMBER_REQ, CIM.Group.CIMGroupInviteMemberReq],
  [CommandId.GROUP_KICK_OUT_MEMBER_REQ, CIM.Group.CIMGroupKickOutMemberReq],
]);

/**
 * mqim's group changes (0x0840-0x0848, ADR 0015) name the group in field 1: they take the group's
 * key too (their notices draw ids from its counter, and a mute must be ordered with the sends it
 * refuses).
 */
const GROUP_EXT_CHANGES = new Map<number, { decode(bytes: Uint8Array): { groupId: IdInput } }>([
  [CommandId.GROUP_SET_ADMIN_REQ, CIM.GroupExt.MqimGroupSetAdminReq],
  [CommandId.GROUP_RENAME_REQ, CIM.GroupExt.MqimGroupRenameReq],
  [CommandId.GROUP_MUTE_ALL_REQ, CIM.GroupExt.MqimGroupMuteAllReq],
  [CommandId.GROUP_MUTE_MEMBER_REQ, CIM.GroupExt.MqimGroupMuteMemberReq],
  [CommandId.GROUP_TRANSFER_OWNER_REQ, CIM.GroupExt.MqimGroupTransferOwnerReq],
]);

/**
 * The order key of a request logic answers as it is (queries, group changes, calls), or
 * `undefined` when its body does not decode (the client gets IM_ERR_BAD_BODY).
 *
 * A change to a group takes the group's key, the one its chat messages take: logic handles one
 * key's requests one after another, and the notice a change stores draws its id from the group's
 * counter, so a notice and a message must not race (they would commit in the opposite order to
 * their ids). Everything else keeps the user's key, in the order that user sent it.
 */
export function upstreamOrderKey(cmd: number, userId: number, body: Uint8Array): string | undefined {
  // A recall stores a notice with the conversation's next id: it runs in the conversation's lane.
  if (cmd === CommandId.RECALL_REQ) {
    try {
      const req = CIM.Ext.MqimRecallReq.decode(body);
      return conversationKey(req.sessionType, userId, toId(req.sessionId, 'session_id'));
    } catch {
      return undefined;
    }
  }
  const type = GROUP_CHANGES.get(cmd) ?? GROUP_EXT_CHANGES.get(cmd);
  if (cmd === CommandId.VOIP_BYE_REQ) return byeOrderKey(userId, body);
  if (!type) return `u${userId}`;
  try {
    return conversationKey(SessionType.GROUP, userId, toId(type.decode(body).groupId, 'group_id'));
  } catch {
    return undefined;
  }
}

/** Our channel names: `021-<callee>-<creator>-<ms>` (apps/logic voip.handlers). */
const CHANNEL_CALLEE = /^021-(\d{1,16})-/;

/**
 * A bye ends with an AVCHAT message in the conversation of the two parties, so it takes that
 * conversation's key, as a send between them would (ids in order of commit). The peer is the
 * creator named in channel_info, or the callee in the channel name when the creator hangs up;
 * a bye naming no call of ours keeps the user's key (logic finds nothing to end).
 */
function byeOrderKey(userId: number, body: Uint8Array): string | undefined {
  let bye: CIM.Voip.CIMVoipByeReq;
  try {
    bye = CIM.Voip.CIMVoipByeReq.decode(body);
  } catch {
    return undefined;
  }
  const info = bye.channelInfo;
  if (!info) return `u${userId}`;
  try {
    const creator = toId(info.creatorId ?? 0, 'creator_id');
    const callee = Number(CHANNEL_CALLEE.exec(info.channelName ?? '')?.[1] ?? 0);
    const peer = creator === userId ? callee : creator;
    if (peer === 0 || peer === userId || !Number.isSafeInteger(peer)) return `u${userId}`;
    return conversationKey(SessionType.SINGLE, userId, peer);
  } catch {
    return undefined;
  }
}
