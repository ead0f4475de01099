import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { CIM, SessionType, conversationKey } from '@mqim/protocol';
import type { Store } from '@mqim/store';
import { ApiError } from './api-error';
import { responses, sendHeaders, sendMessageBody, sendMessageResponse } from './api.schemas';
import { UpstreamRefusedError, UpstreamTimeoutError, type UpstreamClient } from './upstream.client';
import type { IdempotencyRouteConfig } from './idempotency.hook';

export interface SendBody {
  from: number;
  sessionType: SessionType;
  to: number;
  system?: boolean;
  text?: string;
  msgType?: number;
  data?: string;
  notification?: { notificationType: number; data?: Record<string, unknown> };
}

/** Logic's refusals as HTTP statuses; the code itself is passed on unchanged. */
const REFUSAL_STATUS: Record<string, number> = {
  IM_ERR_INVALID_ARGUMENT: 400,
  IM_ERR_FORBIDDEN: 403,
  IM_ERR_NOT_FOUND: 404,
  IM_ERR_DUPLICATE_MISMATCH: 409,
  IM_ERR_PAYLOAD_TOO_LARGE: 413,
  IM_ERR_USER_RATE_LIMITED: 429,
  IM_ERR_REFUSED_BY_HOOK: 403,
  // The sender is muted in the group, or the group is muted (ADR 0015).
  IM_ERR_GROUP_MUTED: 403,
  // The recipient blocked the sender (issue 12).
  IM_ERR_BLOCKED: 403,
  // The before-send hook failed and its policy is fail-closed.
  IM_ERR_UNAVAILABLE: 503,
};

/** What a send may answer besides the common errors (the OpenAPI document lists them). */
const SEND_ERRORS: Record<number, readonly string[]> = {
  403: ['IM_ERR_FORBIDDEN', 'IM_ERR_REFUSED_BY_HOOK', 'IM_ERR_GROUP_MUTED', 'IM_ERR_BLOCKED'],
  404: ['IM_ERR_NOT_FOUND'],
  409: ['IM_ERR_DUPLICATE_MISMATCH'],
  429: ['IM_ERR_USER_RATE_LIMITED'],
  502: ['IM_ERR_REFUSED'],
  504: ['IM_ERR_TIMEOUT'],
};

/**
 * `POST /messages`: a message sent by a business server, as a user or as a system account, to a
 * user or a group. It travels the clients' path (upstream -> logic -> store -> job -> gates), so
 * it is stored, ordered, delivered, synced and tapped like any other. The `Idempotency-Key`
 * header becomes the message's client_msg_id: a retry with the same key is answered with the
 * message stored the first time (the store's unique (sender, client_msg_id)), whichever api
 * process it reaches.
 */
export function registerMessageRoutes(
  api: FastifyInstance,
  deps: { store: Store; upstream?: UpstreamClient },
): void {
  api.post(
    '/messages',
    {
      // The key is the message's client_msg_id, unique per sender: two senders may use one key.
      config: { idempotency: { scopeBy: 'from' } satisfies IdempotencyRouteConfig },
      schema: {
        headers: sendHeaders,
        body: sendMessageBody,
        response: responses({ 201: sendMessageResponse }, SEND_ERRORS),
      },
    },
    async (req, reply) => {
      if (!deps.upstream)
        throw new ApiError(503, 'IM_ERR_UNAVAILABLE', 'this api process has no message bus');
      const b = req.body as SendBody;
      if (b.sessionType === SessionType.SINGLE && b.from === b.to)
        throw new ApiError(400, 'IM_ERR_INVALID_ARGUMENT', 'cannot send a message to oneself');
      // Logic checks the recipient; the sender is the api's word, so it is checked here.
      if (!(await deps.store.users.findById(b.from)))
        throw new ApiError(404, 'IM_ERR_NOT_FOUND', `user ${b.from} does not exist`);
      const { msgType, msgData } = content(b);
      const clientMsgId = (req.headers['idempotency-key'] as string | undefined) ?? randomUUID();
      try {
        const ack = await deps.upstream.sendMessage(
          b.from,
          {
            fromUserId: b.from,
            toSessionId: b.to,
            clientMsgId,
            sessionType: b.sessionType,
            msgType,
            msgData,
          },
          conversationKey(b.sessionType, b.from, b.to),
          b.system === true,
          true,
        );
        reply.code(201);
        return {
          serverMsgId: Number(ack.serverMsgId),
          clientMsgId,
          from: b.from,
          sessionType: b.sessionType,
          to: b.to,
          msgType,
          createTime: Number(ack.createTime),
        };
      } catch (err) {
        if (err instanceof UpstreamRefusedError) {
          const status = REFUSAL_STATUS[err.code];
          // A refusal this route does not document (a newer logic's) keeps its code in the text.
          if (status === undefined) throw new ApiError(502, 'IM_ERR_REFUSED', `${err.code}: ${err.message}`);
          throw new ApiError(status, err.code, err.message);
        }
        if (err instanceof UpstreamTimeoutError) throw new ApiError(504, err.code, err.message);
        throw err;
      }
    },
  );
}

export function content(b: SendBody): { msgType: number; msgData: Uint8Array } {
  if (b.text !== undefined)
    return { msgType: CIM.Def.CIMMsgType.MSG_TYPE_TEXT, msgData: Buffer.from(b.text, 'utf8') };
  if (b.notification)
    return {
      msgType: CIM.Def.CIMMsgType.MSG_TYPE_NOTIFICATION,
      msgData: Buffer.from(
        JSON.stringify({
          notificationType: b.notification.notificationType,
          data: b.notification.data ?? {},
        }),
        'utf8',
      ),
    };
  return { msgType: b.msgType!, msgData: Buffer.from(b.data!, 'base64') };
}
