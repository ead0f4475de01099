import { CIM, CommandId, laneOf } from '@mqim/protocol';
import { upstreamOrderKey } from './upstream.order-key';

describe('gate - order key of requests handed to logic', () => {
  const invite = CIM.Group.CIMGroupInviteMemberReq.encode({
    userId: 7,
    groupId: 42,
    memberIdList: [8],
  }).finish();

  it('group changes - invite, kick, exit and disband travel in the group lane its chat messages take', () => {
    const bodies: [number, Uint8Array][] = [
      [CommandId.GROUP_INVITE_MEMBER_REQ, invite],
      [
        CommandId.GROUP_KICK_OUT_MEMBER_REQ,
        CIM.Group.CIMGroupKickOutMemberReq.encode({ userId: 7, groupId: 42, memberIdList: [8] }).finish(),
      ],
      [CommandId.GROUP_EXIT_REQ, CIM.Group.CIMGroupExitReq.encode({ userId: 7, groupId: 42 }).finish()],
      [
        CommandId.GROUP_DISBINGDING_REQ,
        CIM.Group.CIMGroupDisbandingReq.encode({ userId: 7, groupId: 42 }).finish(),
      ],
    ];
    // A chat message to group 42 is keyed by conversationKey(2, sender, 42) on the gate.
    for (const [cmd, body] of bodies) expect(upstreamOrderKey(cmd, 7, body)).toBe('g:42');
    // Whoever sends it: one key per group, so every lane count puts them in one lane.
    expect(laneOf(upstreamOrderKey(CommandId.GROUP_EXIT_REQ, 9, bodies[2]![1])!, 4)).toBe(laneOf('g:42', 4));
  });

  it('group roles and mutes - set admin, rename, mute, transfer travel in the group lane too', () => {
    const E = CIM.GroupExt;
    const bodies: [number, Uint8Array][] = [
      [
        CommandId.GROUP_SET_ADMIN_REQ,
        E.MqimGroupSetAdminReq.encode({ groupId: 42, userId: 8, admin: true }).finish(),
      ],
      [CommandId.GROUP_RENAME_REQ, E.MqimGroupRenameReq.encode({ groupId: 42, groupName: 'x' }).finish()],
      [CommandId.GROUP_MUTE_ALL_REQ, E.MqimGroupMuteAllReq.encode({ groupId: 42, muted: true }).finish()],
      [CommandId.GROUP_MUTE_MEMBER_REQ, E.MqimGroupMuteMemberReq.encode({ groupId: 42, userId: 8 }).finish()],
      [
        CommandId.GROUP_TRANSFER_OWNER_REQ,
        E.MqimGroupTransferOwnerReq.encode({ groupId: 42, newOwnerId: 8 }).finish(),
      ],
    ];
    for (const [cmd, body] of bodies) expect(upstreamOrderKey(cmd, 7, body)).toBe('g:42');
    // Queries keep the user's key.
    const roles = E.MqimGroupRolesReq.encode({ groupId: 42 }).finish();
    expect(upstreamOrderKey(CommandId.GROUP_ROLES_REQ, 7, roles)).toBe('u7');
  });

  it('recall - travels in its conversation lane, the one the sends it follows take', () => {
    const single = CIM.Ext.MqimRecallReq.encode({ sessionType: 1, sessionId: 3, serverMsgId: 5 }).finish();
    const group = CIM.Ext.MqimRecallReq.encode({ sessionType: 2, sessionId: 42, serverMsgId: 5 }).finish();
    expect(upstreamOrderKey(CommandId.RECALL_REQ, 7, single)).toBe('s:3:7');
    expect(upstreamOrderKey(CommandId.RECALL_REQ, 7, group)).toBe('g:42');
    expect(upstreamOrderKey(CommandId.RECALL_REQ, 7, Buffer.from([0x0a, 0xff]))).toBeUndefined();
    // Sync reads are queries: the user key.
    expect(upstreamOrderKey(CommandId.SYNC_REQ, 7, new Uint8Array(0))).toBe('u7');
  });

  it('queries and creation - keep the user key, in the order that user sent them', () => {
    expect(upstreamOrderKey(CommandId.GROUP_CREATE_DEFAULT_REQ, 7, new Uint8Array(0))).toBe('u7');
    expect(upstreamOrderKey(CommandId.GROUP_LIST_MEMBER_REQ, 7, new Uint8Array([1, 2, 3]))).toBe('u7');
  });

  it('bad input - a group change whose body does not decode or names no valid group has no key', () => {
    expect(upstreamOrderKey(CommandId.GROUP_INVITE_MEMBER_REQ, 7, Buffer.from([0x0a, 0xff]))).toBeUndefined();
    const negative = CIM.Group.CIMGroupExitReq.encode({ userId: 7, groupId: -1 }).finish();
    expect(upstreamOrderKey(CommandId.GROUP_EXIT_REQ, 7, negative)).toBeUndefined();
  });
});
