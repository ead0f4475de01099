import { CIM, CommandId, MqimError, SessionType, decodeBody, toId } from '@mqim/protocol';
import type { ScheduledMessage } from '@mqim/store';
import type { LogicDeps } from './logic-deps';
import type { RequestContext } from './request-context';

type Handler = (deps: LogicDeps, ctx: RequestContext) => Promise<void>;

const OK = 200;
/** At most this far ahead (30 days), as the API. */
const MAX_AHEAD_MS = 30 * 24 * 60 * 60 * 1000;
/** Pending scheduled messages one user may have (a flood fills no table). */
export const MAX_PENDING_PER_USER = 1000;

function toWire(s: ScheduledMessage): CIM.Schedule.IMqimScheduledMsg {
  return {
    scheduleId: s.scheduleId,
    sessionType: s.sessionType,
    toSessionId: s.toSessionId,
    msgType: s.msgType,
    msgData: s.msgData,
    sendAtMs: s.sendAtMs,
    status: s.status,
    version: s.version,
    serverMsgId: s.serverMsgId,
  };
}

function sendAt(value: unknown): number {
  const at = toId(value as number, 'send_at_ms');
  const now = Date.now();
  if (at <= now || at > now + MAX_AHEAD_MS)
    throw new MqimError(
      'IM_ERR_INVALID_ARGUMENT',
      'send_at_ms must be in the future and at most 30 days ahead',
    );
  return at;
}

/** Not the user's (or unknown): one answer for both, so ids of others' messages reveal nothing. */
function notFound(): never {
  throw new MqimError('IM_ERR_NOT_FOUND', 'no such scheduled message');
}

/**
 * 0x0860: stores a message of the logged-in user to send later (the sender is always the
 * session's user, never an id from the body). The recipient and the content are checked now as a
 * send would be (the recipient exists, the sender is a member of the group, the size); the send at
 * its time checks again. Armed and sent by the api processes' scheduler (ADR 0016).
 */
const handleCreate: Handler = async (deps, ctx) => {
  const req = decodeBody(CommandId.SCHEDULE_CREATE_REQ, ctx.req.body);
  // A redelivered request (ADR 0009) answers from the row its first attempt made: one message.
  const earlier = await deps.store.schedules.byRequestKey(ctx.userId, ctx.requestKey);
  if (earlier) return replyCreated(ctx, earlier);
  const toSessionId = toId(req.toSessionId, 'to_session_id');
  const at = sendAt(req.sendAtMs);
  if (req.sessionType !== SessionType.SINGLE && req.sessionType !== SessionType.GROUP)
    throw new MqimError('IM_ERR_INVALID_ARGUMENT', 'session_type must be 1 (single) or 2 (group)');
  // NOTIFICATION messages are the server's (as send.handler): a client may not schedule one either.
  if (req.msgType === CIM.Def.CIMMsgType.MSG_TYPE_NOTIFICATION)
    throw new MqimError('IM_ERR_INVALID_ARGUMENT', 'msg_type 9 (NOTIFICATION) is sent by the server only');
  if (req.msgData.length > deps.options.maxMsgDataBytes)
    throw new MqimError(
      'IM_ERR_PAYLOAD_TOO_LARGE',
      `msg_data is larger than ${deps.options.maxMsgDataBytes} bytes`,
    );
  if (req.sessionType === SessionType.SINGLE) {
    if (toSessionId === ctx.userId)
      throw new MqimError('IM_ERR_INVALID_ARGUMENT', 'cannot send a message to oneself');
    if (!(await deps.store.users.findById(toSessionId)))
      throw new MqimError('IM_ERR_NOT_FOUND', `user ${toSessionId} does not exist`);
  } else {
    const group = await deps.store.groups.get(toSessionId);
    if (!group || group.status !== 'active') throw new MqimError('IM_ERR_NOT_FOUND', 'no such group');
    if (!(await deps.store.groups.members(toSessionId)).includes(ctx.userId))
      throw new MqimError('IM_ERR_FORBIDDEN', 'not a member of the group');
  }
  if ((await deps.store.schedules.countPending(ctx.userId)) >= MAX_PENDING_PER_USER)
    throw new MqimError(
      'IM_ERR_USER_RATE_LIMITED',
      `at most ${MAX_PENDING_PER_USER} pending scheduled messages`,
    );
  const row = await deps.store.schedules.create({
    userId: ctx.userId,
    sessionType: req.sessionType,
    toSessionId,
    msgType: req.msgType || CIM.Def.CIMMsgType.MSG_TYPE_TEXT,
    msgData: req.msgData,
    sendAtMs: at,
    requestKey: ctx.requestKey,
  });
  await replyCreated(ctx, row);
};

function replyCreated(ctx: RequestContext, row: ScheduledMessage): Promise<void> {
  return ctx.reply(
    CommandId.SCHEDULE_CREATE_RSP,
    CIM.Schedule.MqimScheduleCreateRsp.encode({ resultCode: OK, scheduled: toWire(row) }).finish(),
  );
}

/** 0x0862: the user's pending scheduled messages, soonest first. */
const handleList: Handler = async (deps, ctx) => {
  decodeBody(CommandId.SCHEDULE_LIST_REQ, ctx.req.body);
  const rows = await deps.store.schedules.pendingOf(ctx.userId, 1000);
  await ctx.reply(
    CommandId.SCHEDULE_LIST_RSP,
    CIM.Schedule.MqimScheduleListRsp.encode({ resultCode: OK, scheduled: rows.map(toWire) }).finish(),
  );
};

/** 0x0864: cancels a pending message of the user's (idempotent); too late once it is being sent. */
const handleCancel: Handler = async (deps, ctx) => {
  const req = decodeBody(CommandId.SCHEDULE_CANCEL_REQ, ctx.req.body);
  const id = toId(req.scheduleId, 'schedule_id');
  const r = await deps.store.schedules.cancel(id, ctx.userId);
  if (r === 'not_found') notFound();
  if (r === 'too_late')
    throw new MqimError('IM_ERR_SCHEDULE_TOO_LATE', 'the message is already being sent or sent');
  await ctx.reply(
    CommandId.SCHEDULE_CANCEL_RSP,
    CIM.Schedule.MqimScheduleCancelRsp.encode({ resultCode: OK, scheduleId: id }).finish(),
  );
};

/** 0x0866: a new time for a pending message of the user's; the old timer is then ignored. */
const handleUpdate: Handler = async (deps, ctx) => {
  const req = decodeBody(CommandId.SCHEDULE_UPDATE_REQ, ctx.req.body);
  const id = toId(req.scheduleId, 'schedule_id');
  const r = await deps.store.schedules.reschedule(id, ctx.userId, sendAt(req.sendAtMs));
  if (r === 'not_found') notFound();
  if (r === 'too_late')
    throw new MqimError('IM_ERR_SCHEDULE_TOO_LATE', 'the message is already being sent or sent');
  await ctx.reply(
    CommandId.SCHEDULE_UPDATE_RSP,
    CIM.Schedule.MqimScheduleUpdateRsp.encode({ resultCode: OK, scheduled: toWire(r) }).finish(),
  );
};

export const scheduleHandlers: [number, Handler][] = [
  [CommandId.SCHEDULE_CREATE_REQ, handleCreate],
  [CommandId.SCHEDULE_LIST_REQ, handleList],
  [CommandId.SCHEDULE_CANCEL_REQ, handleCancel],
  [CommandId.SCHEDULE_UPDATE_REQ, handleUpdate],
];
