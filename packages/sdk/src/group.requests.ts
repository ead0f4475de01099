import { CIM, CommandId, toIds } from '@mqim/protocol/client';
import { id, optionalBytes, toGroupInfo, toGroupVersion } from './cim.mapper';
import { ImRequestFailedError } from './im.errors';
import type {
  CreateGroupInput,
  CreateGroupResult,
  GroupChangeResult,
  GroupInfo,
  GroupVersion,
  RequestOptions,
} from './im.types';
import { checkId, checkIds, type Requester } from './requester';

// Group calls 0x0501-0x0517, thin request/response wrappers. Note the response ids the clients
// number as if decimal: GROUP_INFO_RSP is 0x0510 and GROUP_KICK_OUT_MEMBER_RSP 0x0514.

/** Group responses carry a plain uint32 result code; 200 is success. */
const GROUP_OK = 200;

export async function createGroup(
  rq: Requester,
  input: CreateGroupInput,
  options?: RequestOptions,
): Promise<CreateGroupResult> {
  const { body } = await rq.call(
    CommandId.GROUP_CREATE_DEFAULT_REQ,
    (userId) => ({ userId, groupName: input.name, memberIdList: checkIds(input.memberIds, 'memberIds') }),
    CommandId.GROUP_CREATE_DEFAULT_RSP,
    options,
  );
  checkGroupResult(CommandId.GROUP_CREATE_DEFAULT_REQ, body.resultCode);
  return {
    group: toGroupInfo(body.groupInfo),
    memberIds: toIds(body.memberIdList, 'member_id_list'),
    notification: optionalBytes(body.attachNotificationMsg),
  };
}

export async function disbandGroup(
  rq: Requester,
  groupId: number,
  options?: RequestOptions,
): Promise<GroupChangeResult> {
  const { body } = await rq.call(
    CommandId.GROUP_DISBINGDING_REQ,
    (userId) => ({ userId, groupId: checkId(groupId, 'groupId') }),
    CommandId.GROUP_DISBINGDING_RSP,
    options,
  );
  return groupChange(CommandId.GROUP_DISBINGDING_REQ, body);
}

export async function exitGroup(
  rq: Requester,
  groupId: number,
  options?: RequestOptions,
): Promise<GroupChangeResult> {
  const { body } = await rq.call(
    CommandId.GROUP_EXIT_REQ,
    (userId) => ({ userId, groupId: checkId(groupId, 'groupId') }),
    CommandId.GROUP_EXIT_RSP,
    options,
  );
  return groupChange(CommandId.GROUP_EXIT_REQ, body);
}

export async function listGroups(rq: Requester, options?: RequestOptions): Promise<GroupVersion[]> {
  const { body } = await rq.call(
    CommandId.GROUP_LIST_REQ,
    (userId) => ({ userId }),
    CommandId.GROUP_LIST_RSP,
    options,
  );
  return body.groupVersionList.map(toGroupVersion);
}

export async function groupInfo(
  rq: Requester,
  groups: Array<number | GroupVersion>,
  options?: RequestOptions,
): Promise<GroupInfo[]> {
  const groupVersionList = groups.map((g) =>
    typeof g === 'number'
      ? { groupId: checkId(g, 'groupId'), groupVersion: 0 }
      : { groupId: checkId(g.groupId, 'groupId'), groupVersion: g.version },
  );
  const { body } = await rq.call(
    CommandId.GROUP_INFO_REQ,
    (userId) => ({ userId, groupVersionList }),
    CommandId.GROUP_INFO_RSP,
    options,
  );
  checkGroupResult(CommandId.GROUP_INFO_REQ, body.resultCode);
  return body.groupInfoList.map(toGroupInfo);
}

export async function inviteMembers(
  rq: Requester,
  groupId: number,
  memberIds: number[],
  options?: RequestOptions,
): Promise<GroupChangeResult> {
  const { body } = await rq.call(
    CommandId.GROUP_INVITE_MEMBER_REQ,
    (userId) => ({
      userId,
      groupId: checkId(groupId, 'groupId'),
      memberIdList: checkIds(memberIds, 'memberIds'),
    }),
    CommandId.GROUP_INVITE_MEMBER_RSP,
    options,
  );
  return groupChange(CommandId.GROUP_INVITE_MEMBER_REQ, body);
}

export async function kickMembers(
  rq: Requester,
  groupId: number,
  memberIds: number[],
  options?: RequestOptions,
): Promise<GroupChangeResult> {
  const { body } = await rq.call(
    CommandId.GROUP_KICK_OUT_MEMBER_REQ,
    (userId) => ({
      userId,
      groupId: checkId(groupId, 'groupId'),
      memberIdList: checkIds(memberIds, 'memberIds'),
    }),
    CommandId.GROUP_KICK_OUT_MEMBER_RSP,
    options,
  );
  return groupChange(CommandId.GROUP_KICK_OUT_MEMBER_REQ, body);
}

export async function groupMembers(
  rq: Requester,
  groupId: number,
  options?: RequestOptions,
): Promise<number[]> {
  const { body } = await rq.call(
    CommandId.GROUP_LIST_MEMBER_REQ,
    (userId) => ({ userId, groupId: checkId(groupId, 'groupId') }),
    CommandId.GROUP_LIST_MEMBER_RSP,
    options,
  );
  return toIds(body.memberIdList, 'member_id_list');
}

function checkGroupResult(cmd: number, resultCode: number): void {
  if (resultCode !== GROUP_OK) throw new ImRequestFailedError(cmd, resultCode, undefined);
}

function groupChange(cmd: number, body: CIM.Group.CIMGroupExitRsp.$Properties): GroupChangeResult {
  checkGroupResult(cmd, body.resultCode ?? 0);
  return { groupId: id(body.groupId, 'group_id'), notification: optionalBytes(body.attachNotificationMsg) };
}
