/**
 * Command ids of the CIM protocol (frame header offset 10), as mqim speaks it. Names follow the
 * CoffeeChat originals (`GROUP_DISBINGDING_*` included) so that logs match the spec tables.
 * 0x0800-0x08FF are mqim's own extensions.
 */
export const CommandId = {
  LOGIN_AUTH_TOKEN_REQ: 0x0101,
  LOGIN_AUTH_TOKEN_RSP: 0x0102,
  LOGIN_AUTH_LOGOUT_REQ: 0x0103,
  LOGIN_AUTH_LOGOUT_RSP: 0x0104,
  LOGIN_HEARTBEAT: 0x0105,
  LOGIN_AUTH_REQ: 0x0107,
  LOGIN_AUTH_RSP: 0x0108,

  LIST_RECENT_CONTACT_SESSION_REQ: 0x0201,
  LIST_RECENT_CONTACT_SESSION_RSP: 0x0202,
  LIST_MSG_REQ: 0x0205,
  LIST_MSG_RSP: 0x0206,

  MSG_DATA: 0x0301,
  MSG_DATA_ACK: 0x0302,
  MSG_READ_ACK: 0x0303,
  MSG_READ_NOTIFY: 0x0304,
  MSG_GET_LATEST_MSG_ID_REQ: 0x0305,
  MSG_GET_LATEST_MSG_ID_RSP: 0x0306,
  MSG_GET_BY_MSG_ID_REQ: 0x0307,
  MSG_GET_BY_MSG_ID_RSP: 0x0308,

  VOIP_INVITE_REQ: 0x0401,
  VOIP_INVITE_REPLY: 0x0402,
  VOIP_INVITE_REPLY_ACK: 0x0403,
  VOIP_HEARTBEAT: 0x0404,
  VOIP_BYE_REQ: 0x0405,
  VOIP_BYE_RSP: 0x0406,
  VOIP_BYE_NOTIFY: 0x0407,

  GROUP_CREATE_DEFAULT_REQ: 0x0501,
  GROUP_CREATE_DEFAULT_RSP: 0x0502,
  GROUP_DISBINGDING_REQ: 0x0503,
  GROUP_DISBINGDING_RSP: 0x0504,
  GROUP_EXIT_REQ: 0x0505,
  GROUP_EXIT_RSP: 0x0506,
  GROUP_LIST_REQ: 0x0507,
  GROUP_LIST_RSP: 0x0508,
  GROUP_INFO_REQ: 0x0509,
  // Not 0x050A: the clients number these as if they were decimal.
  GROUP_INFO_RSP: 0x0510,
  GROUP_INVITE_MEMBER_REQ: 0x0511,
  GROUP_INVITE_MEMBER_RSP: 0x0512,
  GROUP_KICK_OUT_MEMBER_REQ: 0x0513,
  // The original server replied 0x0512 here; mqim uses the id the table promises.
  GROUP_KICK_OUT_MEMBER_RSP: 0x0514,
  GROUP_MEMBER_CHANGED_NOTIFY: 0x0515,
  GROUP_LIST_MEMBER_REQ: 0x0516,
  GROUP_LIST_MEMBER_RSP: 0x0517,

  FRIEND_QUERY_USER_LIST_REQ: 0x0601,
  FRIEND_QUERY_USER_LIST_RSP: 0x0602,

  /** mqim extension: the server is about to close this connection on purpose (`MqimKickOutNotify`). */
  KICK_OUT_NOTIFY: 0x0801,
  /** mqim extension: a request failed or the connection broke the protocol (`MqimErrorNotify`). */
  ERROR_NOTIFY: 0x0802,

  /** mqim extensions 0x0840-0x084D: group roles, mute, transfer, read receipts (ADR 0015). */
  GROUP_SET_ADMIN_REQ: 0x0840,
  GROUP_SET_ADMIN_RSP: 0x0841,
  GROUP_RENAME_REQ: 0x0842,
  GROUP_RENAME_RSP: 0x0843,
  GROUP_MUTE_ALL_REQ: 0x0844,
  GROUP_MUTE_ALL_RSP: 0x0845,
  GROUP_MUTE_MEMBER_REQ: 0x0846,
  GROUP_MUTE_MEMBER_RSP: 0x0847,
  GROUP_TRANSFER_OWNER_REQ: 0x0848,
  GROUP_TRANSFER_OWNER_RSP: 0x0849,
  GROUP_ROLES_REQ: 0x084a,
  GROUP_ROLES_RSP: 0x084b,
  GROUP_READ_RECEIPTS_REQ: 0x084c,
  GROUP_READ_RECEIPTS_RSP: 0x084d,
  /** mqim extension: one conversation's messages after a server_msg_id (`MqimSyncConvReq`). */
  SYNC_CONV_REQ: 0x0810,
  SYNC_CONV_RSP: 0x0811,
  /** mqim extension: every conversation changed after a client-held cursor (`MqimSyncReq`). */
  SYNC_REQ: 0x0812,
  SYNC_RSP: 0x0813,
  /** mqim extension: recall a message (`MqimRecallReq`). */
  RECALL_REQ: 0x0814,
  RECALL_RSP: 0x0815,
  /** mqim extension: a message of the conversation was recalled (`MqimRecallNotify`). */
  RECALL_NOTIFY: 0x0816,
  // 0x0820-0x083F: typing, presence, contacts and profile (issue 12, proto/cim/mqim_social.proto).
  /** mqim extension: "typing" / "stopped" to one peer; ephemeral, no answer. */
  TYPING: 0x0820,
  TYPING_NOTIFY: 0x0821,
  PRESENCE_QUERY_REQ: 0x0822,
  PRESENCE_QUERY_RSP: 0x0823,
  PRESENCE_SUBSCRIBE_REQ: 0x0824,
  PRESENCE_SUBSCRIBE_RSP: 0x0825,
  PRESENCE_NOTIFY: 0x0826,
  FRIEND_REQUEST_REQ: 0x0827,
  FRIEND_REQUEST_RSP: 0x0828,
  FRIEND_RESPOND_REQ: 0x0829,
  FRIEND_RESPOND_RSP: 0x082a,
  FRIEND_REMOVE_REQ: 0x082b,
  FRIEND_REMOVE_RSP: 0x082c,
  FRIEND_BLOCK_REQ: 0x082d,
  FRIEND_BLOCK_RSP: 0x082e,
  FRIEND_REQUEST_LIST_REQ: 0x082f,
  FRIEND_REQUEST_LIST_RSP: 0x0830,
  CONTACT_NOTIFY: 0x0831,
  PROFILE_UPDATE_REQ: 0x0832,
  PROFILE_UPDATE_RSP: 0x0833,
  PROFILE_NOTIFY: 0x0834,
  /** Gate → logic only (never accepted from a client): a connection of the user came or went. */
  PRESENCE_CHANGED: 0x083f,
  /** mqim extension (issue 12): what a connection understands (`MqimClientCapabilitiesReq`). */
  CLIENT_CAPABILITIES_REQ: 0x0803,
  CLIENT_CAPABILITIES_RSP: 0x0804,
  // ---- 0x0860..0x086F: scheduled messages (issue 13, proto/cim/mqim_schedule.proto) ----
  /** mqim extension: schedule a message of one's own (`MqimScheduleCreateReq`). */
  SCHEDULE_CREATE_REQ: 0x0860,
  SCHEDULE_CREATE_RSP: 0x0861,
  /** mqim extension: one's pending scheduled messages. */
  SCHEDULE_LIST_REQ: 0x0862,
  SCHEDULE_LIST_RSP: 0x0863,
  /** mqim extension: cancel a pending scheduled message. */
  SCHEDULE_CANCEL_REQ: 0x0864,
  SCHEDULE_CANCEL_RSP: 0x0865,
  /** mqim extension: a new time for a pending scheduled message. */
  SCHEDULE_UPDATE_REQ: 0x0866,
  SCHEDULE_UPDATE_RSP: 0x0867,
} as const;

export type CommandName = keyof typeof CommandId;
export type CommandId = (typeof CommandId)[CommandName];

const nameById = new Map<number, CommandName>(
  (Object.entries(CommandId) as [CommandName, CommandId][]).map(([name, id]) => [id, name]),
);

/** True for the ids in {@link CommandId}. */
export function isKnownCommand(cmd: number): cmd is CommandId {
  return nameById.has(cmd);
}

/**
 * The command's name, or `'UNKNOWN'` for any id mqim does not know. Safe as a metrics label:
 * clients choose command ids, so passing them through raw would let them grow label cardinality.
 */
export function commandName(cmd: number): CommandName | 'UNKNOWN' {
  return nameById.get(cmd) ?? 'UNKNOWN';
}

/** `"MSG_DATA(0x0301)"`, or `"UNKNOWN(0x0999)"`: for logs, where the raw id helps. */
export function describeCommand(cmd: number): string {
  return `${commandName(cmd)}(0x${cmd.toString(16).padStart(4, '0')})`;
}

/** The only commands a connection may send before it has logged in; anything else closes it. */
export function isAllowedBeforeLogin(cmd: number): boolean {
  return cmd === CommandId.LOGIN_AUTH_TOKEN_REQ || cmd === CommandId.LOGIN_AUTH_REQ;
}

/** The range CoffeeChat leaves free and mqim uses for its own commands. */
export function isExtensionCommand(cmd: number): boolean {
  return cmd >= 0x0800 && cmd <= 0x08ff;
}

const responseByRequest = new Map<number, CommandId>([
  [CommandId.LOGIN_AUTH_TOKEN_REQ, CommandId.LOGIN_AUTH_TOKEN_RSP],
  [CommandId.LOGIN_AUTH_LOGOUT_REQ, CommandId.LOGIN_AUTH_LOGOUT_RSP],
  [CommandId.LOGIN_HEARTBEAT, CommandId.LOGIN_HEARTBEAT],
  [CommandId.LOGIN_AUTH_REQ, CommandId.LOGIN_AUTH_RSP],
  [CommandId.LIST_RECENT_CONTACT_SESSION_REQ, CommandId.LIST_RECENT_CONTACT_SESSION_RSP],
  [CommandId.LIST_MSG_REQ, CommandId.LIST_MSG_RSP],
  [CommandId.MSG_DATA, CommandId.MSG_DATA_ACK],
  [CommandId.MSG_GET_LATEST_MSG_ID_REQ, CommandId.MSG_GET_LATEST_MSG_ID_RSP],
  [CommandId.MSG_GET_BY_MSG_ID_REQ, CommandId.MSG_GET_BY_MSG_ID_RSP],
  // The caller's invite is answered with a "100 Trying" reply.
  [CommandId.VOIP_INVITE_REQ, CommandId.VOIP_INVITE_REPLY],
  [CommandId.VOIP_BYE_REQ, CommandId.VOIP_BYE_RSP],
  [CommandId.GROUP_CREATE_DEFAULT_REQ, CommandId.GROUP_CREATE_DEFAULT_RSP],
  [CommandId.GROUP_DISBINGDING_REQ, CommandId.GROUP_DISBINGDING_RSP],
  [CommandId.GROUP_EXIT_REQ, CommandId.GROUP_EXIT_RSP],
  [CommandId.GROUP_LIST_REQ, CommandId.GROUP_LIST_RSP],
  [CommandId.GROUP_INFO_REQ, CommandId.GROUP_INFO_RSP],
  [CommandId.GROUP_INVITE_MEMBER_REQ, CommandId.GROUP_INVITE_MEMBER_RSP],
  [CommandId.GROUP_KICK_OUT_MEMBER_REQ, CommandId.GROUP_KICK_OUT_MEMBER_RSP],
  [CommandId.GROUP_LIST_MEMBER_REQ, CommandId.GROUP_LIST_MEMBER_RSP],
  [CommandId.FRIEND_QUERY_USER_LIST_REQ, CommandId.FRIEND_QUERY_USER_LIST_RSP],
  [CommandId.GROUP_SET_ADMIN_REQ, CommandId.GROUP_SET_ADMIN_RSP],
  [CommandId.GROUP_RENAME_REQ, CommandId.GROUP_RENAME_RSP],
  [CommandId.GROUP_MUTE_ALL_REQ, CommandId.GROUP_MUTE_ALL_RSP],
  [CommandId.GROUP_MUTE_MEMBER_REQ, CommandId.GROUP_MUTE_MEMBER_RSP],
  [CommandId.GROUP_TRANSFER_OWNER_REQ, CommandId.GROUP_TRANSFER_OWNER_RSP],
  [CommandId.GROUP_ROLES_REQ, CommandId.GROUP_ROLES_RSP],
  [CommandId.GROUP_READ_RECEIPTS_REQ, CommandId.GROUP_READ_RECEIPTS_RSP],
  [CommandId.SYNC_CONV_REQ, CommandId.SYNC_CONV_RSP],
  [CommandId.SYNC_REQ, CommandId.SYNC_RSP],
  [CommandId.RECALL_REQ, CommandId.RECALL_RSP],
  [CommandId.PRESENCE_QUERY_REQ, CommandId.PRESENCE_QUERY_RSP],
  [CommandId.PRESENCE_SUBSCRIBE_REQ, CommandId.PRESENCE_SUBSCRIBE_RSP],
  [CommandId.FRIEND_REQUEST_REQ, CommandId.FRIEND_REQUEST_RSP],
  [CommandId.FRIEND_RESPOND_REQ, CommandId.FRIEND_RESPOND_RSP],
  [CommandId.FRIEND_REMOVE_REQ, CommandId.FRIEND_REMOVE_RSP],
  [CommandId.FRIEND_BLOCK_REQ, CommandId.FRIEND_BLOCK_RSP],
  [CommandId.FRIEND_REQUEST_LIST_REQ, CommandId.FRIEND_REQUEST_LIST_RSP],
  [CommandId.PROFILE_UPDATE_REQ, CommandId.PROFILE_UPDATE_RSP],
  [CommandId.CLIENT_CAPABILITIES_REQ, CommandId.CLIENT_CAPABILITIES_RSP],
  [CommandId.SCHEDULE_CREATE_REQ, CommandId.SCHEDULE_CREATE_RSP],
  [CommandId.SCHEDULE_LIST_REQ, CommandId.SCHEDULE_LIST_RSP],
  [CommandId.SCHEDULE_CANCEL_REQ, CommandId.SCHEDULE_CANCEL_RSP],
  [CommandId.SCHEDULE_UPDATE_REQ, CommandId.SCHEDULE_UPDATE_RSP],
]);

/**
 * The command that answers `cmd` (echoing its seq), or undefined when the client expects no
 * direct answer (read acks, delivery receipts, VoIP replies, notifies).
 */
export function responseCommandOf(cmd: number): CommandId | undefined {
  return responseByRequest.get(cmd);
}
