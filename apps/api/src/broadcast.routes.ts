import type { FastifyInstance } from 'fastify';
import { CIM } from '@mqim/protocol';
import type { Store } from '@mqim/store';
import { ApiError } from './api-error';
import { broadcastBody, broadcastIdParams, broadcastResponse, responses } from './api.schemas';
import { BroadcastQueueFullError, type Broadcaster, type BroadcastAudience } from './broadcaster';

interface BroadcastBody {
  from: number;
  audience: BroadcastAudience;
  text?: string;
  notification?: { notificationType: number; data?: Record<string, unknown> };
}

/**
 * `POST /broadcasts` (202 and a status to poll) and `GET /broadcasts/:broadcastId`: a system
 * notification to every user or every online user, paged and paced through the job's per-gate
 * fan-out (broadcaster.ts). Not stored in any history.
 */
export function registerBroadcastRoutes(
  api: FastifyInstance,
  deps: { store: Store; broadcaster?: Broadcaster },
): void {
  const broadcaster = (): Broadcaster => {
    if (!deps.broadcaster)
      throw new ApiError(503, 'IM_ERR_UNAVAILABLE', 'this api process has no message bus');
    return deps.broadcaster;
  };
  api.post(
    '/broadcasts',
    {
      schema: {
        body: broadcastBody,
        response: responses(
          { 202: broadcastResponse },
          { 404: ['IM_ERR_NOT_FOUND'], 429: ['IM_ERR_USER_RATE_LIMITED'] },
        ),
      },
    },
    async (req, reply) => {
      const b = req.body as BroadcastBody;
      const b0 = broadcaster();
      const sender = await deps.store.users.findById(b.from);
      if (!sender) throw new ApiError(404, 'IM_ERR_NOT_FOUND', `user ${b.from} does not exist`);
      const text = b.text;
      const msgType =
        text !== undefined ? CIM.Def.CIMMsgType.MSG_TYPE_TEXT : CIM.Def.CIMMsgType.MSG_TYPE_NOTIFICATION;
      const msgData = Buffer.from(
        text ??
          JSON.stringify({
            notificationType: b.notification!.notificationType,
            data: b.notification!.data ?? {},
          }),
        'utf8',
      );
      const dataText = b.notification?.data?.text;
      try {
        const st = b0.submit({
          from: b.from,
          fromNickName: sender.nickName,
          audience: b.audience,
          msgType,
          msgData,
          preview: text ?? (typeof dataText === 'string' ? dataText : ''),
        });
        reply.code(202);
        return st;
      } catch (err) {
        if (err instanceof BroadcastQueueFullError) throw new ApiError(429, err.code, err.message);
        throw err;
      }
    },
  );

  api.get(
    '/broadcasts/:broadcastId',
    {
      schema: {
        params: broadcastIdParams,
        response: responses({ 200: broadcastResponse }, { 404: ['IM_ERR_NOT_FOUND'] }),
      },
    },
    async (req) => {
      const { broadcastId } = req.params as { broadcastId: string };
      const st = broadcaster().get(broadcastId);
      if (!st)
        throw new ApiError(
          404,
          'IM_ERR_NOT_FOUND',
          'no such broadcast on this api process (status is per process)',
        );
      return st;
    },
  );
}
