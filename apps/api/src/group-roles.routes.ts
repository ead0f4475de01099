import type { FastifyInstance } from 'fastify';
import { CIM, CommandId } from '@mqim/protocol';
import { responses } from './api.schemas';
import { pathId } from './api-error';

/** Sends a group command as `userId` through logic and resolves with its answer (200 only). */
export type GroupAsk = <T extends { resultCode: number }>(
  userId: number,
  groupId: number,
  cmd: number,
  rspCmd: number,
  body: Uint8Array,
  decode: (b: Uint8Array) => T,
) => Promise<T>;

const ID_PATTERN = '^[1-9][0-9]{0,15}$';
const positiveId = { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER } as const;

const groupParams = {
  type: 'object',
  required: ['groupId'],
  properties: { groupId: { type: 'string', pattern: ID_PATTERN } },
} as const;
const memberParams = {
  type: 'object',
  required: ['groupId', 'userId'],
  properties: {
    groupId: { type: 'string', pattern: ID_PATTERN },
    userId: { type: 'string', pattern: ID_PATTERN },
  },
} as const;
const byBody = {
  type: 'object',
  additionalProperties: false,
  required: ['by'],
  properties: { by: positiveId },
} as const;
const renameBody = {
  type: 'object',
  additionalProperties: false,
  required: ['by', 'name'],
  properties: { by: positiveId, name: { type: 'string', minLength: 1, maxLength: 64 } },
} as const;
const muteBody = {
  type: 'object',
  additionalProperties: false,
  required: ['by', 'muted'],
  properties: { by: positiveId, muted: { type: 'boolean' } },
} as const;
const ownerBody = {
  type: 'object',
  additionalProperties: false,
  required: ['by', 'owner'],
  properties: { by: positiveId, owner: positiveId },
} as const;
const rolesQuery = {
  type: 'object',
  additionalProperties: false,
  required: ['by'],
  properties: { by: { type: 'string', pattern: ID_PATTERN } },
} as const;
const rolesResponse = {
  type: 'object',
  required: ['groupId', 'ownerId', 'adminIds', 'mutedAll', 'mutedIds'],
  properties: {
    groupId: { type: 'integer' },
    ownerId: { type: 'integer' },
    adminIds: { type: 'array', items: { type: 'integer' } },
    mutedAll: { type: 'boolean' },
    mutedIds: { type: 'array', items: { type: 'integer' } },
  },
} as const;

/**
 * Group roles and moderation for business servers (issue 13, ADR 0015), as the acting user `by`:
 * each route is the client's command (0x0840 set admin, 0x0842 rename, 0x0844 mute all, 0x0846
 * mute member, 0x0848 transfer, 0x084A roles) sent through logic, so the same permission rules
 * apply and the members get the same notices.
 */
export function registerGroupRoleRoutes(
  api: FastifyInstance,
  ask: GroupAsk,
  errors: Record<number, readonly string[]>,
): void {
  const change = (
    method: 'put' | 'delete',
    url: string,
    params: object,
    body: object,
    cmd: number,
    encode: (groupId: number, p: Record<string, string>, b: Record<string, unknown>) => Uint8Array,
  ) =>
    api[method](
      url,
      { schema: { params, body, response: responses({ 204: null }, errors) } },
      async (req, reply) => {
        const p = req.params as Record<string, string>;
        const b = req.body as Record<string, unknown> & { by: number };
        const groupId = pathId(p.groupId!, 'groupId');
        await ask(b.by, groupId, cmd, cmd + 1, encode(groupId, p, b), (x) =>
          CIM.GroupExt.MqimGroupChangeRsp.decode(x),
        );
        reply.code(204);
      },
    );
  const E = CIM.GroupExt;
  for (const [method, admin] of [
    ['put', true],
    ['delete', false],
  ] as const)
    change(
      method,
      '/groups/:groupId/admins/:userId',
      memberParams,
      byBody,
      CommandId.GROUP_SET_ADMIN_REQ,
      (groupId, p) =>
        E.MqimGroupSetAdminReq.encode({ groupId, userId: pathId(p.userId!, 'userId'), admin }).finish(),
    );
  change(
    'put',
    '/groups/:groupId/name',
    groupParams,
    renameBody,
    CommandId.GROUP_RENAME_REQ,
    (groupId, _p, b) => E.MqimGroupRenameReq.encode({ groupId, groupName: b.name as string }).finish(),
  );
  change(
    'put',
    '/groups/:groupId/mute',
    groupParams,
    muteBody,
    CommandId.GROUP_MUTE_ALL_REQ,
    (groupId, _p, b) => E.MqimGroupMuteAllReq.encode({ groupId, muted: b.muted as boolean }).finish(),
  );
  change(
    'put',
    '/groups/:groupId/members/:userId/mute',
    memberParams,
    muteBody,
    CommandId.GROUP_MUTE_MEMBER_REQ,
    (groupId, p, b) =>
      E.MqimGroupMuteMemberReq.encode({
        groupId,
        userId: pathId(p.userId!, 'userId'),
        muted: b.muted as boolean,
      }).finish(),
  );
  change(
    'put',
    '/groups/:groupId/owner',
    groupParams,
    ownerBody,
    CommandId.GROUP_TRANSFER_OWNER_REQ,
    (groupId, _p, b) =>
      E.MqimGroupTransferOwnerReq.encode({ groupId, newOwnerId: b.owner as number }).finish(),
  );

  api.get(
    '/groups/:groupId/roles',
    {
      schema: {
        params: groupParams,
        querystring: rolesQuery,
        response: responses({ 200: rolesResponse }, errors),
      },
    },
    async (req) => {
      const groupId = pathId((req.params as { groupId: string }).groupId, 'groupId');
      const by = pathId((req.query as { by: string }).by, 'by');
      // A query: the user's key, like the client's (it changes nothing).
      const rsp = await ask(
        by,
        0,
        CommandId.GROUP_ROLES_REQ,
        CommandId.GROUP_ROLES_RSP,
        E.MqimGroupRolesReq.encode({ groupId }).finish(),
        (x) => E.MqimGroupRolesRsp.decode(x),
      );
      return {
        groupId,
        ownerId: Number(rsp.ownerId),
        adminIds: rsp.adminIds.map(Number),
        mutedAll: rsp.mutedAll,
        mutedIds: rsp.mutedIds.map(Number),
      };
    },
  );
}
