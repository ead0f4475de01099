import type { FastifyInstance } from 'fastify';
import { CIM, CommandId, ImErrorNumber, SessionType, conversationKey } from '@mqim/protocol';
import { ApiError, pathId } from './api-error';
import {
  groupChangeBody,
  groupCreateBody,
  groupCreateResponse,
  groupDisbandBody,
  groupIdParams,
  responses,
} from './api.schemas';
import { UpstreamRefusedError, UpstreamTimeoutError, type UpstreamClient } from './upstream.client';
import { registerGroupRoleRoutes } from './group-roles.routes';

/** Group responses carry a refusal as its error number: back to the code, and to an HTTP status. */
const CODE_OF_NUMBER = new Map<number, string>(Object.entries(ImErrorNumber).map(([k, v]) => [v, k]));
const STATUS_OF_CODE: Record<string, number> = {
  IM_ERR_INVALID_ARGUMENT: 400,
  IM_ERR_ID_OUT_OF_RANGE: 400,
  IM_ERR_FORBIDDEN: 403,
  IM_ERR_NOT_FOUND: 404,
  IM_ERR_PAYLOAD_TOO_LARGE: 413,
  IM_ERR_USER_RATE_LIMITED: 429,
};
const GROUP_ERRORS: Record<number, readonly string[]> = {
  400: ['IM_ERR_ID_OUT_OF_RANGE'],
  403: ['IM_ERR_FORBIDDEN'],
  404: ['IM_ERR_NOT_FOUND'],
  429: ['IM_ERR_USER_RATE_LIMITED'],
  502: ['IM_ERR_REFUSED'],
  504: ['IM_ERR_TIMEOUT'],
};

const OK = 200;

function refusal(resultCode: number): ApiError {
  const code = CODE_OF_NUMBER.get(resultCode);
  const status = code ? STATUS_OF_CODE[code] : undefined;
  if (!code || status === undefined)
    return new ApiError(502, 'IM_ERR_REFUSED', `group request refused (${resultCode})`);
  return new ApiError(status, code, `group request refused: ${code}`);
}

/** Logic's error notice (a request it could not answer with a response) through the same table. */
function refusedByNotice(err: UpstreamRefusedError): ApiError {
  const status = STATUS_OF_CODE[err.code];
  if (status === undefined) return new ApiError(502, 'IM_ERR_REFUSED', `${err.code}: ${err.message}`);
  return new ApiError(status, err.code, err.message);
}

/**
 * Group administration for business servers, as the acting user: each route is the client's group
 * command (0x0501 create, 0x0511 invite, 0x0513 kick, 0x0503 disband) sent through logic like the
 * send API's messages, so the same rules (owner-only kick and disband, member limits, creation
 * backoff) and the same notifications to members apply.
 */
export function registerGroupRoutes(api: FastifyInstance, deps: { upstream?: UpstreamClient }): void {
  /**
   * `groupId` 0 for a creation (the user's order key); a change to a group rides the group's key,
   * as the gate sends it (ADR 0009): its notice takes the group's next id, so it must not race the
   * group's chat messages.
   */
  const ask = async <T extends { resultCode: number }>(
    userId: number,
    groupId: number,
    cmd: number,
    rspCmd: number,
    body: Uint8Array,
    decode: (b: Uint8Array) => T,
  ): Promise<T> => {
    if (!deps.upstream) throw new ApiError(503, 'IM_ERR_UNAVAILABLE', 'this api process has no message bus');
    try {
      const answer = await deps.upstream.request(
        {
          userId,
          cmd,
          body,
          orderKey: groupId ? conversationKey(SessionType.GROUP, userId, groupId) : `u${userId}`,
          apiSender: true,
        },
        (c) => c === rspCmd,
      );
      const rsp = decode(answer.body);
      if (rsp.resultCode !== OK) throw refusal(rsp.resultCode);
      return rsp;
    } catch (err) {
      if (err instanceof UpstreamTimeoutError) throw new ApiError(504, err.code, err.message);
      if (err instanceof UpstreamRefusedError) throw refusedByNotice(err);
      throw err;
    }
  };

  api.post(
    '/groups',
    { schema: { body: groupCreateBody, response: responses({ 201: groupCreateResponse }, GROUP_ERRORS) } },
    async (req, reply) => {
      const b = req.body as { owner: number; name: string; members?: number[] };
      const rsp = await ask(
        b.owner,
        0,
        CommandId.GROUP_CREATE_DEFAULT_REQ,
        CommandId.GROUP_CREATE_DEFAULT_RSP,
        CIM.Group.CIMGroupCreateReq.encode({
          userId: b.owner,
          groupName: b.name,
          memberIdList: b.members ?? [],
        }).finish(),
        (x) => CIM.Group.CIMGroupCreateRsp.decode(x),
      );
      reply.code(201);
      return {
        groupId: Number(rsp.groupInfo?.groupId ?? 0),
        name: rsp.groupInfo?.groupName ?? b.name,
        ownerId: Number(rsp.groupInfo?.groupOwnerId ?? b.owner),
        memberIds: rsp.memberIdList.map(Number),
      };
    },
  );

  const change = (
    method: 'post' | 'delete',
    cmd: number,
    rspCmd: number,
    decode: (b: Uint8Array) => { resultCode: number },
  ) =>
    api[method](
      '/groups/:groupId/members',
      {
        schema: {
          params: groupIdParams,
          body: groupChangeBody,
          response: responses({ 204: null }, GROUP_ERRORS),
        },
      },
      async (req, reply) => {
        const groupId = pathId((req.params as { groupId: string }).groupId, 'groupId');
        const b = req.body as { by: number; members: number[] };
        const body = CIM.Group.CIMGroupInviteMemberReq.encode({
          userId: b.by,
          groupId,
          memberIdList: b.members,
        }).finish();
        await ask(b.by, groupId, cmd, rspCmd, body, decode);
        reply.code(204);
      },
    );
  // Invite and kick requests have the same fields (user_id, group_id, member_id_list).
  change('post', CommandId.GROUP_INVITE_MEMBER_REQ, CommandId.GROUP_INVITE_MEMBER_RSP, (x) =>
    CIM.Group.CIMGroupInviteMemberRsp.decode(x),
  );
  change('delete', CommandId.GROUP_KICK_OUT_MEMBER_REQ, CommandId.GROUP_KICK_OUT_MEMBER_RSP, (x) =>
    CIM.Group.CIMGroupKickOutMemberRsp.decode(x),
  );

  api.delete(
    '/groups/:groupId',
    {
      schema: {
        params: groupIdParams,
        body: groupDisbandBody,
        response: responses({ 204: null }, GROUP_ERRORS),
      },
    },
    async (req, reply) => {
      const groupId = pathId((req.params as { groupId: string }).groupId, 'groupId');
      const b = req.body as { by: number };
      await ask(
        b.by,
        groupId,
        CommandId.GROUP_DISBINGDING_REQ,
        CommandId.GROUP_DISBINGDING_RSP,
        CIM.Group.CIMGroupDisbandingReq.encode({ userId: b.by, groupId }).finish(),
        (x) => CIM.Group.CIMGroupDisbandingRsp.decode(x),
      );
      reply.code(204);
    },
  );

  registerGroupRoleRoutes(api, ask, GROUP_ERRORS);
}
