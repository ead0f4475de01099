import type { FastifyInstance } from 'fastify';
import { SessionType } from '@mqim/protocol';
import type { ScheduledMessage, Store } from '@mqim/store';
import { ApiError } from './api-error';
import {
  SCHEDULE_MAX_AHEAD_MS,
  rescheduleBody,
  responses,
  scheduleBody,
  scheduleIdParams,
  scheduledListResponse,
  scheduledMessageResponse,
  userIdParams,
} from './api.schemas';
import { content, type SendBody } from './message.routes';
import { scheduledClientMsgId, type MessageScheduler } from './message.scheduler';

const TOO_LATE = 'IM_ERR_SCHEDULE_TOO_LATE';
/** Pending scheduled messages per user, as for clients (logic's schedule handlers). */
const MAX_PENDING_PER_USER = 1000;

export function scheduledView(s: ScheduledMessage) {
  return {
    scheduleId: s.scheduleId,
    from: s.userId,
    sessionType: s.sessionType,
    to: s.toSessionId,
    msgType: s.msgType,
    sendAt: s.sendAtMs,
    status: s.status,
    version: s.version,
    serverMsgId: s.serverMsgId,
    clientMsgId: scheduledClientMsgId(s.scheduleId),
    ...(s.error ? { error: s.error } : {}),
  };
}

function checkSendAt(sendAt: number): void {
  const now = Date.now();
  if (sendAt <= now || sendAt > now + SCHEDULE_MAX_AHEAD_MS)
    throw new ApiError(
      400,
      'IM_ERR_INVALID_ARGUMENT',
      'sendAt must be in the future and at most 30 days ahead (unix ms)',
    );
}

/**
 * Scheduled messages for business servers (ADR 0016): create, read, list a user's pending ones,
 * reschedule, cancel. Sent by the api processes' scheduler (message.scheduler.ts) through the
 * clients' path at `sendAt`, exactly once.
 */
export function registerScheduleRoutes(
  api: FastifyInstance,
  deps: { store: Store; scheduler?: MessageScheduler },
): void {
  const scheduler = (): MessageScheduler => {
    if (!deps.scheduler) throw new ApiError(503, 'IM_ERR_UNAVAILABLE', 'this api process has no message bus');
    return deps.scheduler;
  };
  const owned = async (scheduleId: number): Promise<ScheduledMessage> => {
    const row = await deps.store.schedules.get(scheduleId);
    if (!row) throw new ApiError(404, 'IM_ERR_NOT_FOUND', 'no such scheduled message');
    return row;
  };
  const idOf = (req: { params: unknown }) => Number((req.params as { scheduleId: string }).scheduleId);

  api.post(
    '/scheduled-messages',
    {
      schema: {
        body: scheduleBody,
        response: responses(
          { 201: scheduledMessageResponse },
          { 404: ['IM_ERR_NOT_FOUND'], 429: ['IM_ERR_USER_RATE_LIMITED'] },
        ),
      },
    },
    async (req, reply) => {
      const b = req.body as SendBody & { sendAt: number };
      const s = scheduler();
      checkSendAt(b.sendAt);
      if (b.sessionType === SessionType.SINGLE && b.from === b.to)
        throw new ApiError(400, 'IM_ERR_INVALID_ARGUMENT', 'cannot send a message to oneself');
      if (!(await deps.store.users.findById(b.from)))
        throw new ApiError(404, 'IM_ERR_NOT_FOUND', `user ${b.from} does not exist`);
      if ((await deps.store.schedules.countPending(b.from)) >= MAX_PENDING_PER_USER)
        throw new ApiError(
          429,
          'IM_ERR_USER_RATE_LIMITED',
          `user ${b.from} has ${MAX_PENDING_PER_USER} pending scheduled messages`,
        );
      const { msgType, msgData } = content(b);
      const row = await s.schedule({
        userId: b.from,
        sessionType: b.sessionType,
        toSessionId: b.to,
        msgType,
        msgData,
        systemSender: b.system === true,
        sendAtMs: b.sendAt,
        createdByApi: true,
      });
      reply.code(201);
      return scheduledView(row);
    },
  );

  api.get(
    '/scheduled-messages/:scheduleId',
    {
      schema: {
        params: scheduleIdParams,
        response: responses({ 200: scheduledMessageResponse }, { 404: ['IM_ERR_NOT_FOUND'] }),
      },
    },
    async (req) => scheduledView(await owned(idOf(req))),
  );

  api.get(
    '/users/:id/scheduled-messages',
    { schema: { params: userIdParams, response: responses({ 200: scheduledListResponse }) } },
    async (req) => {
      const userId = Number((req.params as { id: string }).id);
      return { scheduled: (await deps.store.schedules.pendingOf(userId, 1000)).map(scheduledView) };
    },
  );

  api.patch(
    '/scheduled-messages/:scheduleId',
    {
      schema: {
        params: scheduleIdParams,
        body: rescheduleBody,
        response: responses(
          { 200: scheduledMessageResponse },
          { 404: ['IM_ERR_NOT_FOUND'], 409: [TOO_LATE] },
        ),
      },
    },
    async (req) => {
      const sendAt = (req.body as { sendAt: number }).sendAt;
      checkSendAt(sendAt);
      const row = await owned(idOf(req));
      const r = await scheduler().reschedule(row.scheduleId, row.userId, sendAt);
      if (r === 'not_found') throw new ApiError(404, 'IM_ERR_NOT_FOUND', 'no such scheduled message');
      if (r === 'too_late')
        throw new ApiError(409, TOO_LATE, `the message is already ${(await owned(row.scheduleId)).status}`);
      return scheduledView(r);
    },
  );

  api.delete(
    '/scheduled-messages/:scheduleId',
    {
      schema: {
        params: scheduleIdParams,
        response: responses({ 204: null }, { 404: ['IM_ERR_NOT_FOUND'], 409: [TOO_LATE] }),
      },
    },
    async (req, reply) => {
      const row = await owned(idOf(req));
      const r = await deps.store.schedules.cancel(row.scheduleId, row.userId);
      if (r === 'too_late')
        throw new ApiError(409, TOO_LATE, `the message is already ${(await owned(row.scheduleId)).status}`);
      reply.code(204);
    },
  );
}
