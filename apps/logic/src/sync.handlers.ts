import { CIM, CommandId, MqimError, decodeBody, toId } from '@mqim/protocol';
import type { MessageRecord, SessionPosition } from '@mqim/store';
import type { LogicDeps } from './logic-deps';
import { toMsgInfo } from './mappers';
import { assertCanRead, sessionArgs } from './query.handlers';
import type { RequestContext } from './request-context';

/**
 * Sync after reconnect (docs/adr/0013, DESIGN invariant 4). Both reads are keyed by server_msg_id,
 * which increases strictly per conversation and is committed with the timeline row and the
 * owner's session row in one transaction: a page that ends at id N and the next one that starts
 * after N neither skip nor repeat a message, whatever was stored in between, on any shard.
 */

/** Conversations one 0x0812 page returns unless the client asks for fewer. */
const SYNC_CONVERSATIONS_DEFAULT = 20;
const SYNC_CONVERSATIONS_MAX = 100;
/** Messages per conversation per 0x0812 page unless the client asks for fewer. */
const SYNC_MESSAGES_DEFAULT = 50;
/** Positions one cursor may hold: far more conversations than a client has, bounded work per request. */
export const SYNC_CURSOR_MAX_POSITIONS = 20_000;

/**
 * The oldest messages of an ascending page whose msg_data fits in `budget` bytes (at least one
 * when `atLeastOne`): a forward page must stop at its *oldest* part, so the next page starts right
 * after the last message returned.
 */
function oldestWithin(msgs: MessageRecord[], budget: number, atLeastOne: boolean): MessageRecord[] {
  let bytes = 0;
  let end = 0;
  while (end < msgs.length) {
    bytes += msgs[end]!.msgData.length;
    if (bytes > budget && (end > 0 || !atLeastOne)) break;
    end++;
  }
  return msgs.slice(0, end);
}

/** 0x0810: one conversation's messages strictly after after_server_msg_id, ascending. */
export async function handleSyncConv(deps: LogicDeps, ctx: RequestContext): Promise<void> {
  const req = decodeBody(CommandId.SYNC_CONV_REQ, ctx.req.body);
  const { type, sessionId } = sessionArgs(req.sessionType, req.sessionId);
  const after = toId(req.afterServerMsgId, 'after_server_msg_id');
  const limit = Math.max(
    1,
    Math.min(req.limit || deps.options.historyLimitMax, deps.options.historyLimitMax),
  );
  await assertCanRead(deps, ctx.userId, type, sessionId);
  // One more than asked: whether more follow, without a second query.
  const rows = await deps.store.messages.after(ctx.userId, type, sessionId, {
    afterMsgId: after,
    limit: limit + 1,
  });
  const page = oldestWithin(rows.slice(0, limit), deps.options.historyMaxBytes ?? 256 * 1024, true);
  const rsp = CIM.Ext.MqimSyncConvRsp.encode({
    sessionType: type,
    sessionId,
    afterServerMsgId: after,
    msgList: page.map(toMsgInfo),
    hasMore: rows.length > page.length,
  }).finish();
  await ctx.reply(CommandId.SYNC_CONV_RSP, rsp);
}

const positionKey = (type: number, sessionId: number) => `${type}:${sessionId}`;

/**
 * 0x0812: every conversation of the user whose newest message is past the cursor's position for
 * it (a conversation the cursor does not name is at 0), in (session_type, session_id) order, each
 * with its messages after that position; and the cursor advanced past what this page returns. A
 * client calls again with the new cursor while has_more: each call moves every conversation it
 * returns forward, so a week offline takes (new messages) / (conversations x messages per page)
 * round trips, not one per conversation.
 */
export async function handleSync(deps: LogicDeps, ctx: RequestContext): Promise<void> {
  const req = decodeBody(CommandId.SYNC_REQ, ctx.req.body);
  const given = req.cursor?.positions ?? [];
  if (given.length > SYNC_CURSOR_MAX_POSITIONS)
    throw new MqimError(
      'IM_ERR_PAYLOAD_TOO_LARGE',
      `a sync cursor holds at most ${SYNC_CURSOR_MAX_POSITIONS} positions`,
    );
  const cursor = new Map<string, { type: 1 | 2; sessionId: number; at: number }>();
  for (const p of given) {
    const { type, sessionId } = sessionArgs(p.sessionType ?? 0, p.sessionId ?? 0);
    const at = toId(p.serverMsgId ?? 0, 'server_msg_id');
    const key = positionKey(type, sessionId);
    // A position named twice counts at the lower one: nothing the client may lack is skipped.
    const prev = cursor.get(key);
    if (!prev || at < prev.at) cursor.set(key, { type, sessionId, at });
  }
  const maxConversations = Math.max(
    1,
    Math.min(req.maxConversations || SYNC_CONVERSATIONS_DEFAULT, SYNC_CONVERSATIONS_MAX),
  );
  const maxMessages = Math.max(
    1,
    Math.min(req.maxMessages || SYNC_MESSAGES_DEFAULT, deps.options.historyLimitMax),
  );

  const changed: SessionPosition[] = (await deps.store.sessions.positions(ctx.userId)).filter(
    (s) => s.lastServerMsgId > (cursor.get(positionKey(s.sessionType, s.sessionId))?.at ?? 0),
  );
  const picked = changed.slice(0, maxConversations);
  const pages = await Promise.all(
    picked.map((s) =>
      deps.store.messages.after(ctx.userId, s.sessionType, s.sessionId, {
        afterMsgId: cursor.get(positionKey(s.sessionType, s.sessionId))?.at ?? 0,
        limit: maxMessages,
      }),
    ),
  );
  let budget = deps.options.historyMaxBytes ?? 256 * 1024;
  const conversations: CIM.Ext.IMqimSyncConversation[] = [];
  let hasMore = changed.length > picked.length;
  for (let i = 0; i < picked.length; i++) {
    const s = picked[i]!;
    if (pages[i]!.length === 0) {
      // Nothing readable past the position although the session names a newer id (cannot happen
      // while sessions and timelines are written together; guarded so a client never loops).
      cursor.set(positionKey(s.sessionType, s.sessionId), {
        type: s.sessionType,
        sessionId: s.sessionId,
        at: s.lastServerMsgId,
      });
      continue;
    }
    // The first conversation always gets a message, so every page makes progress.
    const msgs = oldestWithin(pages[i]!, budget, conversations.length === 0);
    if (msgs.length === 0) {
      hasMore = true;
      break;
    }
    for (const m of msgs) budget -= m.msgData.length;
    const last = msgs[msgs.length - 1]!.serverMsgId;
    const more = last < s.lastServerMsgId;
    hasMore ||= more;
    cursor.set(positionKey(s.sessionType, s.sessionId), {
      type: s.sessionType,
      sessionId: s.sessionId,
      at: last,
    });
    conversations.push({
      sessionType: s.sessionType,
      sessionId: s.sessionId,
      msgList: msgs.map(toMsgInfo),
      hasMore: more,
      unreadCnt: s.unreadCnt,
    });
  }
  const rsp = CIM.Ext.MqimSyncRsp.encode({
    conversations,
    cursor: {
      positions: [...cursor.values()].map((p) => ({
        sessionType: p.type,
        sessionId: p.sessionId,
        serverMsgId: p.at,
      })),
    },
    hasMore,
  }).finish();
  await ctx.reply(CommandId.SYNC_RSP, rsp);
}
