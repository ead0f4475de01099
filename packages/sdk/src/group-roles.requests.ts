import { CIM, CommandId, toIds } from '@mqim/protocol/client';
import { id, optionalBytes } from './cim.mapper';
import { ImRequestFailedError } from './im.errors';
import type { GroupChangeResult, GroupReadReceipt, GroupRoles, RequestOptions } from './im.types';
import { checkId, checkIds, type Requester } from './requester';

// mqim's group extensions 0x0840-0x084D (docs/protocol.md §4, ADR 0015): each request is answered
// by the id after it, with result_code 200 on success.

const GROUP_OK = 200;

function checked(cmd: number, resultCode: number | null | undefined): void {
  if (resultCode !== GROUP_OK) throw new ImRequestFailedError(cmd, resultCode ?? 0, undefined);
}

function change(cmd: number, body: CIM.GroupExt.MqimGroupChangeRsp.$Properties): GroupChangeResult {
  checked(cmd, body.resultCode);
  return { groupId: id(body.groupId, 'group_id'), notification: optionalBytes(body.attachNotificationMsg) };
}

export async function setGroupAdmin(
  rq: Requester,
  groupId: number,
  userId: number,
  admin: boolean,
  options?: RequestOptions,
): Promise<GroupChangeResult> {
  const { body } = await rq.call(
    CommandId.GROUP_SET_ADMIN_REQ,
    () => ({ groupId: checkId(groupId, 'groupId'), userId: checkId(userId, 'userId'), admin }),
    CommandId.GROUP_SET_ADMIN_RSP,
    options,
  );
  return change(CommandId.GROUP_SET_ADMIN_REQ, body);
}

export async function renameGroup(
  rq: Requester,
  groupId: number,
  name: string,
  options?: RequestOptions,
): Promise<GroupChangeResult> {
  const { body } = await rq.call(
    CommandId.GROUP_RENAME_REQ,
    () => ({ groupId: checkId(groupId, 'groupId'), groupName: name }),
    CommandId.GROUP_RENAME_RSP,
    options,
  );
  return change(CommandId.GROUP_RENAME_REQ, body);
}

export async function muteGroup(
  rq: Requester,
  groupId: number,
  muted: boolean,
  options?: RequestOptions,
): Promise<GroupChangeResult> {
  const { body } = await rq.call(
    CommandId.GROUP_MUTE_ALL_REQ,
    () => ({ groupId: checkId(groupId, 'groupId'), muted }),
    CommandId.GROUP_MUTE_ALL_RSP,
    options,
  );
  return change(CommandId.GROUP_MUTE_ALL_REQ, body);
}

export async function muteGroupMember(
  rq: Requester,
  groupId: number,
  userId: number,
  muted: boolean,
  options?: RequestOptions,
): Promise<GroupChangeResult> {
  const { body } = await rq.call(
    CommandId.GROUP_MUTE_MEMBER_REQ,
    () => ({ groupId: checkId(groupId, 'groupId'), userId: checkId(userId, 'userId'), muted }),
    CommandId.GROUP_MUTE_MEMBER_RSP,
    options,
  );
  return change(CommandId.GROUP_MUTE_MEMBER_REQ, body);
}

export async function transferGroup(
  rq: Requester,
  groupId: number,
  newOwnerId: number,
  options?: RequestOptions,
): Promise<GroupChangeResult> {
  const { body } = await rq.call(
    CommandId.GROUP_TRANSFER_OWNER_REQ,
    () => ({ groupId: checkId(groupId, 'groupId'), newOwnerId: checkId(newOwnerId, 'newOwnerId') }),
    CommandId.GROUP_TRANSFER_OWNER_RSP,
    options,
  );
  return change(CommandId.GROUP_TRANSFER_OWNER_REQ, body);
}

export async function groupRoles(
  rq: Requester,
  groupId: number,
  options?: RequestOptions,
): Promise<GroupRoles> {
  const { body } = await rq.call(
    CommandId.GROUP_ROLES_REQ,
    () => ({ groupId: checkId(groupId, 'groupId') }),
    CommandId.GROUP_ROLES_RSP,
    options,
  );
  checked(CommandId.GROUP_ROLES_REQ, body.resultCode);
  return {
    groupId: id(body.groupId, 'group_id'),
    ownerId: id(body.ownerId, 'owner_id'),
    adminIds: toIds(body.adminIds, 'admin_ids'),
    mutedAll: body.mutedAll === true,
    mutedIds: toIds(body.mutedIds, 'muted_ids'),
  };
}

export async function groupReadReceipts(
  rq: Requester,
  groupId: number,
  msgIds: number[],
  options?: RequestOptions,
): Promise<GroupReadReceipt[]> {
  const { body } = await rq.call(
    CommandId.GROUP_READ_RECEIPTS_REQ,
    () => ({ groupId: checkId(groupId, 'groupId'), msgIds: checkIds(msgIds, 'msgIds') }),
    CommandId.GROUP_READ_RECEIPTS_RSP,
    options,
  );
  checked(CommandId.GROUP_READ_RECEIPTS_REQ, body.resultCode);
  return body.receipts.map((r) => ({
    msgId: id(r.msgId, 'msg_id'),
    readCount: r.readCount ?? 0,
    unreadCount: r.unreadCount ?? 0,
    readerIds: toIds(r.readerIds ?? [], 'reader_ids'),
    readersListed: r.readersListed === true,
  }));
}
