import { CIM, CommandId, MqimError, SessionType, toId, decodeBody } from '@mqim/protocol';
import type { LogicDeps } from './logic-deps';
import { toContactSession, toMsgInfo } from './mappers';
import type { RequestContext } from './request-context';

/** Reads answer about the logged-in user only; user ids in request bodies are ignored (invariant 6). */

export function sessionArgs(type: number, sessionId: unknown): { type: 1 | 2; sessionId: number } {
  if (type !== 1 && type !== 2)
    throw new MqimError('IM_ERR_INVALID_ARGUMENT', 'session_type must be 1 (single) or 2 (group)');
  return { type, sessionId: toId(sessionId as number, 'session_id') };
}

/** Peers per `bots.among` call when listing recent sessions. */
const BOT_LOOKUP_CHUNK = 500;

/** 0x0201: every session of the user, newest first, with its newest message and unread count. */
export async function handleRecentSessions(deps: LogicDeps, ctx: RequestContext): Promise<void> {
  const req = decodeBody(CommandId.LIST_RECENT_CONTACT_SESSION_REQ, ctx.req.body);
  const sessions = await deps.store.sessions.recent(ctx.userId, {
    updatedSince: req.latestUpdateTime || undefined,
  });
  const unread = sessions.reduce((sum, s) => sum + s.unreadCnt, 0);
  // CoffeeChat's robot sessions: a single chat with a bot user (ADR 0016), one query per
  // BOT_LOOKUP_CHUNK peers (the store takes at most 10,000 ids per call).
  const peers = sessions.filter((s) => s.sessionType === SessionType.SINGLE).map((s) => s.sessionId);
  const robots = new Set<number>();
  for (let i = 0; i < peers.length; i += BOT_LOOKUP_CHUNK)
    for (const b of await deps.store.bots.among(peers.slice(i, i + BOT_LOOKUP_CHUNK))) robots.add(b.userId);
  const rsp = CIM.List.CIMRecentContactSessionRsp.encode({
    userId: ctx.userId,
    unreadCounts: unread,
    contactSessionList: sessions.map((s) => ({
      ...toContactSession(s),
      isRobotSession: s.sessionType === SessionType.SINGLE && robots.has(s.sessionId),
    })),
  }).finish();
  await ctx.reply(CommandId.LIST_RECENT_CONTACT_SESSION_RSP, rsp);
}

/**
 * The newest messages of an ascending page whose msg_data fits in `maxBytes` (at least one), so
 * a small request cannot ask for an unbounded reply. The client pages on from the oldest it got,
 * so nothing is skipped.
 */
function newestWithin<T extends { msgData: Uint8Array }>(msgs: T[], maxBytes: number): T[] {
  let bytes = 0;
  let start = msgs.length;
  while (start > 0) {
    bytes += msgs[start - 1]!.msgData.length;
    if (bytes > maxBytes && start < msgs.length) break;
    start--;
  }
  return start === 0 ? msgs : msgs.slice(start);
}

/** 0x0205: a page of history strictly older than end_msg_id (0 = newest), ascending. */
export async function handleHistory(deps: LogicDeps, ctx: RequestContext): Promise<void> {
  const req = decodeBody(CommandId.LIST_MSG_REQ, ctx.req.body);
  const { type, sessionId } = sessionArgs(req.sessionType, req.sessionId);
  const endMsgId = toId(req.endMsgId, 'end_msg_id');
  const limit = Math.max(1, Math.min(req.limitCount || 20, deps.options.historyLimitMax));
  await assertCanRead(deps, ctx.userId, type, sessionId);
  const msgs = await deps.store.messages.history(ctx.userId, type, sessionId, {
    beforeMsgId: endMsgId || undefined,
    limit,
  });
  const rsp = CIM.List.CIMGetMsgListRsp.encode({
    userId: ctx.userId,
    sessionType: type,
    sessionId,
    endMsgId,
    msgList: newestWithin(msgs, deps.options.historyMaxBytes ?? 256 * 1024).map(toMsgInfo),
  }).finish();
  await ctx.reply(CommandId.LIST_MSG_RSP, rsp);
}

/** 0x0305: the newest message's client id (a string, as CIMContactSessionInfo.msg_id). */
export async function handleLatestMsgId(deps: LogicDeps, ctx: RequestContext): Promise<void> {
  const req = decodeBody(CommandId.MSG_GET_LATEST_MSG_ID_REQ, ctx.req.body);
  const { type, sessionId } = sessionArgs(req.sessionType, req.sessionId);
  const latest = await deps.store.messages.latest(ctx.userId, type, sessionId);
  const rsp = CIM.Message.CIMGetLatestMsgIdRsp.encode({
    userId: ctx.userId,
    sessionType: type,
    sessionId,
    latestMsgId: latest?.clientMsgId ?? '',
  }).finish();
  await ctx.reply(CommandId.MSG_GET_LATEST_MSG_ID_RSP, rsp);
}

/** 0x0307: messages of one session by their client ids (at most 100 per request). */
export async function handleMsgsById(deps: LogicDeps, ctx: RequestContext): Promise<void> {
  const req = decodeBody(CommandId.MSG_GET_BY_MSG_ID_REQ, ctx.req.body);
  const { type, sessionId } = sessionArgs(req.sessionType, req.sessionId);
  const ids = req.msgIdList.slice(0, 100);
  const msgs = ids.length ? await deps.store.messages.findByClientIds(ctx.userId, type, sessionId, ids) : [];
  const rsp = CIM.Message.CIMGetMsgByIdRsp.encode({
    userId: ctx.userId,
    sessionType: type,
    sessionId,
    msgList: newestWithin(msgs, deps.options.historyMaxBytes ?? 256 * 1024).map(toMsgInfo),
  }).finish();
  await ctx.reply(CommandId.MSG_GET_BY_MSG_ID_RSP, rsp);
}

export async function assertCanRead(
  deps: LogicDeps,
  userId: number,
  type: 1 | 2,
  sessionId: number,
): Promise<void> {
  // Group timelines hold rows only for members, so a stranger reads nothing; saying so is clearer.
  if (type === 2 && !(await deps.store.groups.isMember(sessionId, userId))) {
    const group = await deps.store.groups.get(sessionId);
    if (!group) throw new MqimError('IM_ERR_NOT_FOUND', `group ${sessionId} does not exist`);
  }
}
