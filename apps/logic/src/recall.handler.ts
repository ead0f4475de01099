import {
  CIM,
  CimErrorCode,
  CommandId,
  MqimError,
  SessionType,
  conversationKey,
  decodeBody,
  mqim,
  recallEventId,
  toId,
} from '@mqim/protocol';
import type { ConversationRef, MessageRecord, RecallMark } from '@mqim/store';
import { giveBack } from './id.giveback';
import type { LogicDeps } from './logic-deps';
import { sessionArgs } from './query.handlers';
import { mayRecallInGroup } from './recall.policy';
import type { RequestContext } from './request-context';
import { messageStoredEvent } from './send.handler';

/** @see LogicOptions.recallWindowSec */
export const DEFAULT_RECALL_WINDOW_SEC = 120;

/** The client_msg_id of the notice a recall stores: one per recalled message, whoever recalls it. */
export function recallNoticeClientId(convKey: string, serverMsgId: number): string {
  return `recall/${convKey}/${serverMsgId}`;
}

/** Whether a stored message is a recall notice (those are not recalled themselves). */
function isRecallNotice(m: MessageRecord): boolean {
  return m.msgType === CIM.Def.CIMMsgType.MSG_TYPE_TIPS && m.clientMsgId.startsWith('recall/');
}

/**
 * 0x0814. Order of effects (docs/adr/0013): check -> mark the message recalled (once per message,
 * `im_message_recall`) -> store a TIPS notice in the conversation (request-keyed by the recalled
 * message, so a retry finds it) -> answer, tell every online device of the conversation (0x0816
 * and the notice as 0x0301; offline recipients get the notice as a push that replaces the
 * conversation's notification), publish MESSAGE_STORED for the notice and MESSAGE_RECALLED.
 * The gate routes the request in the conversation's lane, so the notice's id is taken in order
 * with the conversation's sends. A redelivery finds the mark and the notice and repeats the rest.
 */
export async function handleRecall(deps: LogicDeps, ctx: RequestContext): Promise<void> {
  const req = decodeBody(CommandId.RECALL_REQ, ctx.req.body);
  const { type, sessionId } = sessionArgs(req.sessionType, req.sessionId);
  const serverMsgId = toId(req.serverMsgId, 'server_msg_id');
  if (serverMsgId === 0) throw new MqimError('IM_ERR_INVALID_ARGUMENT', 'server_msg_id must be set');
  const userId = ctx.userId;

  let owners: number[];
  let conv: ConversationRef;
  let moderator = false;
  if (type === SessionType.GROUP) {
    const group = await deps.store.groups.get(sessionId);
    if (!group || group.status !== 'active')
      throw new MqimError('IM_ERR_NOT_FOUND', `group ${sessionId} does not exist`);
    owners = await deps.store.groups.members(sessionId);
    if (!owners.includes(userId))
      throw new MqimError('IM_ERR_FORBIDDEN', 'only members may recall in a group');
    moderator = await mayRecallInGroup(deps, group, userId);
    conv = { type: SessionType.GROUP, groupId: sessionId };
  } else {
    if (sessionId === userId) throw new MqimError('IM_ERR_INVALID_ARGUMENT', 'no conversation with oneself');
    owners = [userId, sessionId];
    conv = { type: SessionType.SINGLE, a: userId, b: sessionId };
  }

  const m = await deps.store.messages.get(userId, type, sessionId, serverMsgId);
  if (!m) throw new MqimError('IM_ERR_NOT_FOUND', `message ${serverMsgId} is not in this conversation`);
  if (isRecallNotice(m) || (type === SessionType.GROUP && m.fromUserId === sessionId))
    throw new MqimError('IM_ERR_INVALID_ARGUMENT', 'notices cannot be recalled');
  if (m.fromUserId !== userId && !moderator)
    throw new MqimError('IM_ERR_FORBIDDEN', 'only the sender or the group owner may recall this message');
  const now = Math.floor(Date.now() / 1000);
  const windowSec = deps.options.recallWindowSec ?? DEFAULT_RECALL_WINDOW_SEC;
  // A message already recalled answers as recalled (a retry, a second recaller), window or not.
  if (!m.recalled && now - m.createTime > windowSec)
    throw new MqimError('IM_ERR_RECALL_WINDOW_PASSED', `messages can be recalled within ${windowSec} s`);

  const mark = await deps.store.messages.recall(conv, serverMsgId, { recalledBy: userId, recalledAt: now });
  const convKey = conversationKey(type, userId, sessionId);
  const notice = await storeNotice(deps, convKey, conv, m, mark, owners);

  const rsp = CIM.Ext.MqimRecallRsp.encode({
    sessionType: type,
    sessionId,
    serverMsgId,
    resultCode: CimErrorCode.SUCCESS,
    recalledAt: mark.recalledAt,
  }).finish();
  const notify = CIM.Ext.MqimRecallNotify.encode({
    sessionType: type,
    toSessionId: m.toSessionId,
    serverMsgId,
    clientMsgId: m.clientMsgId,
    fromUserId: m.fromUserId,
    recalledBy: mark.recalledBy,
    recalledAt: mark.recalledAt,
    noticeMsgId: notice.serverMsgId,
  }).finish();
  const nick = await deps.knownUsers.nickName(notice.fromUserId);
  const noticeData = CIM.Message.CIMMsgData.encode({
    fromUserId: notice.fromUserId,
    fromNickName: nick,
    toSessionId: notice.toSessionId,
    clientMsgId: notice.clientMsgId,
    serverMsgId: notice.serverMsgId,
    createTime: notice.createTime,
    msgType: notice.msgType,
    sessionType: notice.sessionType,
    msgData: notice.msgData,
  }).finish();
  const audience = [...new Set(owners)];
  const recipients = audience.filter((u) => u !== notice.fromUserId);
  const tap: mqim.v1.IPersistedMessage = {
    serverMsgId: notice.serverMsgId,
    clientMsgId: notice.clientMsgId,
    fromUserId: notice.fromUserId,
    sessionType: notice.sessionType,
    toSessionId: notice.toSessionId,
    msgType: notice.msgType,
    createTime: notice.createTime,
    msgDataSize: notice.msgData.length,
    recipientCount: recipients.length,
    senderClientType: notice.senderClientType,
    persistedAtMs: Date.now(),
  };
  const recalled: mqim.v1.IEvent = {
    eventId: recallEventId(m.sessionType, m.fromUserId, m.toSessionId, m.serverMsgId),
    type: mqim.v1.EventType.EVENT_TYPE_MESSAGE_RECALLED,
    atMs: mark.recalledAt * 1000,
    actorUserId: mark.recalledBy,
    // The identity of the recalled message (its row in im_message_send_<k>); no body.
    message: {
      serverMsgId: m.serverMsgId,
      clientMsgId: m.clientMsgId,
      fromUserId: m.fromUserId,
      sessionType: m.sessionType,
      toSessionId: m.toSessionId,
      msgType: m.msgType,
      createTime: m.createTime,
      recipientCount: audience.length - 1,
      senderClientType: m.senderClientType,
      persistedAtMs: mark.recalledAt * 1000,
    },
  };
  // A client's repeat of a done recall (or a second recaller) is answered, and fans out nothing
  // again: a big group would otherwise hear every repeat. A redelivery of the request that made
  // the mark repeats everything (its first attempt may have stopped before telling anyone).
  if (!mark.inserted && ctx.attempt === 1) {
    ctx.after(ctx.reply(CommandId.RECALL_RSP, rsp));
    return;
  }
  ctx.after(
    ctx.reply(CommandId.RECALL_RSP, rsp),
    // Every device of the conversation, the recaller's others included (the asking one too: one
    // frame more, and every device handles recalls the same way).
    deps.intents.publish({ userIds: audience, cmd: CommandId.RECALL_NOTIFY, body: notify }, convKey),
    deps.intents.publish(
      {
        userIds: audience,
        cmd: CommandId.MSG_DATA,
        body: noticeData,
        excludeGateId: ctx.gateId,
        excludeConnId: ctx.connId,
        originAtMs: ctx.receivedAtMs,
        // Recipients who do not get the notice get it as a push, with the conversation's collapse
        // key: on APNs (and FCM's collapse_key) it replaces the notification of the recalled
        // message (docs/push.md).
        push: {
          sessionType: type,
          // From the recipient's view: the group, or (single chat) the recaller.
          sessionId: type === SessionType.GROUP ? sessionId : notice.fromUserId,
          serverMsgId: notice.serverMsgId,
          fromUserId: notice.fromUserId,
          fromNickName: nick,
          msgType: notice.msgType,
          preview: 'recalled a message',
          recalledMsgId: serverMsgId,
        },
      },
      convKey,
    ),
    deps.tap.publish(tap),
    deps.events.publish(messageStoredEvent(tap, notice.fromUserId), recalled),
  );
}

/**
 * The recall's TIPS notice in the conversation, stored once per recalled message (its client id
 * names the message; its sender is the first recaller): a retry, or a second recaller, gets the
 * notice stored first.
 */
async function storeNotice(
  deps: LogicDeps,
  convKey: string,
  conv: ConversationRef,
  m: MessageRecord,
  mark: RecallMark,
  owners: number[],
): Promise<MessageRecord> {
  const clientMsgId = recallNoticeClientId(convKey, m.serverMsgId);
  const earlier = await deps.store.messages.findSent(mark.recalledBy, clientMsgId);
  if (earlier) return earlier;
  const serverMsgId = await deps.cache.sequences.next(convKey, () =>
    deps.store.messages.maxServerMsgId(conv),
  );
  const record: MessageRecord = {
    serverMsgId,
    clientMsgId,
    fromUserId: mark.recalledBy,
    sessionType: m.sessionType,
    // The conversation from the recaller's view: the group, or the recaller's peer.
    toSessionId:
      m.sessionType === SessionType.GROUP
        ? m.toSessionId
        : m.fromUserId === mark.recalledBy
          ? m.toSessionId
          : m.fromUserId,
    msgType: CIM.Def.CIMMsgType.MSG_TYPE_TIPS,
    msgData: Buffer.from(
      JSON.stringify({
        tipsType: 'recall',
        serverMsgId: String(m.serverMsgId),
        clientMsgId: m.clientMsgId,
        fromUserId: String(m.fromUserId),
        recalledBy: String(mark.recalledBy),
        recalledAt: mark.recalledAt,
      }),
    ),
    attach: '',
    senderClientType: 0,
    msgStatus: 0,
    createTime: Math.floor(Date.now() / 1000),
  };
  let saved: Awaited<ReturnType<typeof deps.store.messages.save>>;
  try {
    saved = await deps.store.messages.save(record, owners);
  } catch (err) {
    await giveBack(deps, convKey, conv, serverMsgId, err);
    throw err;
  }
  if (saved === 'inserted') {
    deps.metrics.messagesStored.inc({
      session_type: m.sessionType === SessionType.GROUP ? 'group' : 'single',
    });
    return record;
  }
  await giveBack(deps, convKey, conv, serverMsgId);
  const stored = await deps.store.messages.findSent(mark.recalledBy, clientMsgId);
  if (!stored) throw new Error('recall notice vanished');
  return stored;
}
