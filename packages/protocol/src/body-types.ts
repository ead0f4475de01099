import { CommandId } from './command-id';
import type { CIM as ClientCim } from './generated/cim.client';

/** What the registry reads of a generated CIM namespace: the slim client module has just that. */
type CimNamespace = typeof ClientCim;

/**
 * The body type of every command, from one generated module: the server's (`proto.js`) or the
 * slim client one (`cim.client.js`, for the SDK in browsers). Each id has exactly one type
 * whichever way it travels (0x0301 is a send C→S and a delivery S→C; 0x0302 a "stored" ack S→C
 * and a receipt C→S). Both heartbeats have an empty body.
 */
export function bodyTypesOf<N extends CimNamespace>(CIM: N) {
  return {
    [CommandId.LOGIN_AUTH_TOKEN_REQ]: CIM.Login.CIMAuthTokenReq,
    [CommandId.LOGIN_AUTH_TOKEN_RSP]: CIM.Login.CIMAuthTokenRsp,
    [CommandId.LOGIN_AUTH_LOGOUT_REQ]: CIM.Login.CIMLogoutReq,
    [CommandId.LOGIN_AUTH_LOGOUT_RSP]: CIM.Login.CIMLogoutRsp,
    [CommandId.LOGIN_HEARTBEAT]: CIM.Login.CIMHeartBeat,
    [CommandId.LOGIN_AUTH_REQ]: CIM.Login.CIMAuthReq,
    [CommandId.LOGIN_AUTH_RSP]: CIM.Login.CIMAuthRsp,

    [CommandId.LIST_RECENT_CONTACT_SESSION_REQ]: CIM.List.CIMRecentContactSessionReq,
    [CommandId.LIST_RECENT_CONTACT_SESSION_RSP]: CIM.List.CIMRecentContactSessionRsp,
    [CommandId.LIST_MSG_REQ]: CIM.List.CIMGetMsgListReq,
    [CommandId.LIST_MSG_RSP]: CIM.List.CIMGetMsgListRsp,

    [CommandId.MSG_DATA]: CIM.Message.CIMMsgData,
    [CommandId.MSG_DATA_ACK]: CIM.Message.CIMMsgDataAck,
    [CommandId.MSG_READ_ACK]: CIM.Message.CIMMsgDataReadAck,
    [CommandId.MSG_READ_NOTIFY]: CIM.Message.CIMMsgDataReadNotify,
    [CommandId.MSG_GET_LATEST_MSG_ID_REQ]: CIM.Message.CIMGetLatestMsgIdReq,
    [CommandId.MSG_GET_LATEST_MSG_ID_RSP]: CIM.Message.CIMGetLatestMsgIdRsp,
    [CommandId.MSG_GET_BY_MSG_ID_REQ]: CIM.Message.CIMGetMsgByIdReq,
    [CommandId.MSG_GET_BY_MSG_ID_RSP]: CIM.Message.CIMGetMsgByIdRsp,

    [CommandId.VOIP_INVITE_REQ]: CIM.Voip.CIMVoipInviteReq,
    [CommandId.VOIP_INVITE_REPLY]: CIM.Voip.CIMVoipInviteReply,
    [CommandId.VOIP_INVITE_REPLY_ACK]: CIM.Voip.CIMVoipInviteReplyAck,
    [CommandId.VOIP_HEARTBEAT]: CIM.Login.CIMHeartBeat,
    [CommandId.VOIP_BYE_REQ]: CIM.Voip.CIMVoipByeReq,
    [CommandId.VOIP_BYE_RSP]: CIM.Voip.CIMVoipByeRsp,
    [CommandId.VOIP_BYE_NOTIFY]: CIM.Voip.CIMVoipByeNotify,

    [CommandId.GROUP_CREATE_DEFAULT_REQ]: CIM.Group.CIMGroupCreateReq,
    [CommandId.GROUP_CREATE_DEFAULT_RSP]: CIM.Group.CIMGroupCreateRsp,
    [CommandId.GROUP_DISBINGDING_REQ]: CIM.Group.CIMGroupDisbandingReq,
    [CommandId.GROUP_DISBINGDING_RSP]: CIM.Group.CIMGroupDisbandingRsp,
    [CommandId.GROUP_EXIT_REQ]: CIM.Group.CIMGroupExitReq,
    [CommandId.GROUP_EXIT_RSP]: CIM.Group.CIMGroupExitRsp,
    [CommandId.GROUP_LIST_REQ]: CIM.Group.CIMGroupListReq,
    [CommandId.GROUP_LIST_RSP]: CIM.Group.CIMGroupListRsp,
    [CommandId.GROUP_INFO_REQ]: CIM.Group.CIMGroupInfoReq,
    [CommandId.GROUP_INFO_RSP]: CIM.Group.CIMGroupInfoRsp,
    [CommandId.GROUP_INVITE_MEMBER_REQ]: CIM.Group.CIMGroupInviteMemberReq,
    [CommandId.GROUP_INVITE_MEMBER_RSP]: CIM.Group.CIMGroupInviteMemberRsp,
    [CommandId.GROUP_KICK_OUT_MEMBER_REQ]: CIM.Group.CIMGroupKickOutMemberReq,
    [CommandId.GROUP_KICK_OUT_MEMBER_RSP]: CIM.Group.CIMGroupKickOutMemberRsp,
    [CommandId.GROUP_MEMBER_CHANGED_NOTIFY]: CIM.Group.CIMGroupMemberChangedNotify,
    [CommandId.GROUP_LIST_MEMBER_REQ]: CIM.Group.CIMGroupMemberListReq,
    [CommandId.GROUP_LIST_MEMBER_RSP]: CIM.Group.CIMGroupMemberListRsp,

    [CommandId.FRIEND_QUERY_USER_LIST_REQ]: CIM.Friend.CIMFriendQueryUserListReq,
    [CommandId.FRIEND_QUERY_USER_LIST_RSP]: CIM.Friend.CIMFriendQueryUserListRsp,

    [CommandId.KICK_OUT_NOTIFY]: CIM.Ext.MqimKickOutNotify,
    [CommandId.ERROR_NOTIFY]: CIM.Ext.MqimErrorNotify,

    [CommandId.GROUP_SET_ADMIN_REQ]: CIM.GroupExt.MqimGroupSetAdminReq,
    [CommandId.GROUP_SET_ADMIN_RSP]: CIM.GroupExt.MqimGroupChangeRsp,
    [CommandId.GROUP_RENAME_REQ]: CIM.GroupExt.MqimGroupRenameReq,
    [CommandId.GROUP_RENAME_RSP]: CIM.GroupExt.MqimGroupChangeRsp,
    [CommandId.GROUP_MUTE_ALL_REQ]: CIM.GroupExt.MqimGroupMuteAllReq,
    [CommandId.GROUP_MUTE_ALL_RSP]: CIM.GroupExt.MqimGroupChangeRsp,
    [CommandId.GROUP_MUTE_MEMBER_REQ]: CIM.GroupExt.MqimGroupMuteMemberReq,
    [CommandId.GROUP_MUTE_MEMBER_RSP]: CIM.GroupExt.MqimGroupChangeRsp,
    [CommandId.GROUP_TRANSFER_OWNER_REQ]: CIM.GroupExt.MqimGroupTransferOwnerReq,
    [CommandId.GROUP_TRANSFER_OWNER_RSP]: CIM.GroupExt.MqimGroupChangeRsp,
    [CommandId.GROUP_ROLES_REQ]: CIM.GroupExt.MqimGroupRolesReq,
    [CommandId.GROUP_ROLES_RSP]: CIM.GroupExt.MqimGroupRolesRsp,
    [CommandId.GROUP_READ_RECEIPTS_REQ]: CIM.GroupExt.MqimGroupReadReceiptsReq,
    [CommandId.GROUP_READ_RECEIPTS_RSP]: CIM.GroupExt.MqimGroupReadReceiptsRsp,
    [CommandId.SYNC_CONV_REQ]: CIM.Ext.MqimSyncConvReq,
    [CommandId.SYNC_CONV_RSP]: CIM.Ext.MqimSyncConvRsp,
    [CommandId.SYNC_REQ]: CIM.Ext.MqimSyncReq,
    [CommandId.SYNC_RSP]: CIM.Ext.MqimSyncRsp,
    [CommandId.RECALL_REQ]: CIM.Ext.MqimRecallReq,
    [CommandId.RECALL_RSP]: CIM.Ext.MqimRecallRsp,
    [CommandId.RECALL_NOTIFY]: CIM.Ext.MqimRecallNotify,
    [CommandId.TYPING]: CIM.Social.MqimTypingReq,
    [CommandId.TYPING_NOTIFY]: CIM.Social.MqimTypingNotify,
    [CommandId.PRESENCE_QUERY_REQ]: CIM.Social.MqimPresenceQueryReq,
    [CommandId.PRESENCE_QUERY_RSP]: CIM.Social.MqimPresenceQueryRsp,
    [CommandId.PRESENCE_SUBSCRIBE_REQ]: CIM.Social.MqimPresenceSubscribeReq,
    [CommandId.PRESENCE_SUBSCRIBE_RSP]: CIM.Social.MqimPresenceSubscribeRsp,
    [CommandId.PRESENCE_NOTIFY]: CIM.Social.MqimPresenceNotify,
    [CommandId.FRIEND_REQUEST_REQ]: CIM.Social.MqimFriendRequestReq,
    [CommandId.FRIEND_REQUEST_RSP]: CIM.Social.MqimContactChangeRsp,
    [CommandId.FRIEND_RESPOND_REQ]: CIM.Social.MqimFriendRespondReq,
    [CommandId.FRIEND_RESPOND_RSP]: CIM.Social.MqimContactChangeRsp,
    [CommandId.FRIEND_REMOVE_REQ]: CIM.Social.MqimFriendRemoveReq,
    [CommandId.FRIEND_REMOVE_RSP]: CIM.Social.MqimContactChangeRsp,
    [CommandId.FRIEND_BLOCK_REQ]: CIM.Social.MqimFriendBlockReq,
    [CommandId.FRIEND_BLOCK_RSP]: CIM.Social.MqimContactChangeRsp,
    [CommandId.FRIEND_REQUEST_LIST_REQ]: CIM.Social.MqimFriendRequestListReq,
    [CommandId.FRIEND_REQUEST_LIST_RSP]: CIM.Social.MqimFriendRequestListRsp,
    [CommandId.CONTACT_NOTIFY]: CIM.Social.MqimContactNotify,
    [CommandId.PROFILE_UPDATE_REQ]: CIM.Social.MqimProfileUpdateReq,
    [CommandId.PROFILE_UPDATE_RSP]: CIM.Social.MqimProfileUpdateRsp,
    [CommandId.PROFILE_NOTIFY]: CIM.Social.MqimProfileNotify,
    [CommandId.PRESENCE_CHANGED]: CIM.Social.MqimPresenceChanged,
    [CommandId.CLIENT_CAPABILITIES_REQ]: CIM.Compat.MqimClientCapabilitiesReq,
    [CommandId.CLIENT_CAPABILITIES_RSP]: CIM.Compat.MqimClientCapabilitiesRsp,
    [CommandId.SCHEDULE_CREATE_REQ]: CIM.Schedule.MqimScheduleCreateReq,
    [CommandId.SCHEDULE_CREATE_RSP]: CIM.Schedule.MqimScheduleCreateRsp,
    [CommandId.SCHEDULE_LIST_REQ]: CIM.Schedule.MqimScheduleListReq,
    [CommandId.SCHEDULE_LIST_RSP]: CIM.Schedule.MqimScheduleListRsp,
    [CommandId.SCHEDULE_CANCEL_REQ]: CIM.Schedule.MqimScheduleCancelReq,
    [CommandId.SCHEDULE_CANCEL_RSP]: CIM.Schedule.MqimScheduleCancelRsp,
    [CommandId.SCHEDULE_UPDATE_REQ]: CIM.Schedule.MqimScheduleUpdateReq,
    [CommandId.SCHEDULE_UPDATE_RSP]: CIM.Schedule.MqimScheduleUpdateRsp,
  } as const satisfies Record<CommandId, BodyType>;
}

/** What the registry needs of a generated message class. */
interface BodyType {
  // `never`: every class accepts only its own properties type, so no single input fits them all.
  encode(message: never): { finish(): Uint8Array };
  decode(reader: Uint8Array): object;
}

// Typed on the slim client module (the full one's classes have the same fields): one set of body
// types for server and SDK, read without loading either module.
type BodyTypes = ReturnType<typeof bodyTypesOf<CimNamespace>>;

/** The decoded body (a generated message instance) of command `C`. */
export type BodyOf<C extends CommandId> = ReturnType<BodyTypes[C]['decode']>;

/** What `encodeBody` accepts for command `C`: the generated `$Properties` (plain objects work). */
export type BodyInput<C extends CommandId> = Parameters<BodyTypes[C]['encode']>[0];

/** Any decoded body, for code that dispatches on a command id only known at run time. */
export type AnyBody = BodyOf<CommandId>;
