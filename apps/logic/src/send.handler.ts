import {
  CIM,
  CommandId,
  MqimError,
  conversationKey,
  messageEventId,
  mqim,
  toId,
  decodeBody,
  encodeRefusedSendAck,
  SessionType,
  type BodyOf,
} from '@mqim/protocol';
import type { MessageRecord, Store } from '@mqim/store';
import type { LogicDeps } from './logic-deps';
import type { RequestContext } from './request-context';
import { giveBack } from './id.giveback';
import { muteReason } from './group.roles';

const CLIENT_MSG_ID = /^[\x21-\x7e]{1,64}$/;

/**
 * 0x0301 C->S. Order of effects (DESIGN invariants 1-3): validate -> dedupe by client_msg_id ->
 * next server_msg_id -> persist (one transaction) -> ack the sender and publish deliveries. The MQ
 * message is acked only after all of that, so a crash anywhere replays the request; the replay
 * finds the stored row and re-acks/re-delivers with the same server_msg_id.
 */
export async function handleSend(deps: LogicDeps, ctx: RequestContext): Promise<void> {
  const msg = decodeBody(CommandId.MSG_DATA, ctx.req.body);
  const userId = ctx.userId;
  const toSessionId = toId(msg.toSessionId, 'to_session_id');
  const fromUserId = toId(msg.fromUserId, 'from_user_id');
  const sessionType = msg.sessionType as number as SessionType;

  const refuse = (
    code:
      | 'IM_ERR_FORBIDDEN'
      | 'IM_ERR_INVALID_ARGUMENT'
      | 'IM_ERR_NOT_FOUND'
      | 'IM_ERR_DUPLICATE_MISMATCH'
      | 'IM_ERR_REFUSED_BY_HOOK'
      | 'IM_ERR_GROUP_MUTED'
      | 'IM_ERR_UNAVAILABLE'
      | 'IM_ERR_BLOCKED',
    text: string,
  ) => refuseSend(deps, ctx, msg, toSessionId, new MqimError(code, text));

  // The sender is the logged-in user; a body naming someone else is forged (invariant 6).
  if (fromUserId !== 0 && fromUserId !== userId)
    return refuse('IM_ERR_FORBIDDEN', 'from_user_id is not the logged-in user');
  if (!CLIENT_MSG_ID.test(msg.clientMsgId))
    return refuse('IM_ERR_INVALID_ARGUMENT', 'client_msg_id must be 1-64 printable ASCII characters');
  if (msg.msgData.length > deps.options.maxMsgDataBytes)
    return refuse('IM_ERR_INVALID_ARGUMENT', 'msg_data too large');
  // Checked before an id is taken: a value the store refuses must not cost the conversation an id.
  if (msg.msgType > 0xffff) return refuse('IM_ERR_INVALID_ARGUMENT', 'msg_type must be 0..65535');
  if (ctx.req.clientType > 0xffff) return refuse('IM_ERR_INVALID_ARGUMENT', 'client_type must be 0..65535');
  // NOTIFICATION messages are the server's (group notices): a client's would render like one and
  // could forge them. Only the api's sends (a trusted business server, ADR 0011) may carry them.
  if (msg.msgType === CIM.Def.CIMMsgType.MSG_TYPE_NOTIFICATION && !ctx.req.apiSender)
    return refuse('IM_ERR_INVALID_ARGUMENT', 'msg_type 9 (NOTIFICATION) is sent by the server only');

  let owners: number[];
  let recipients: number[];
  let muted: string | null = null;
  if (sessionType === SessionType.SINGLE) {
    if (toSessionId === userId) return refuse('IM_ERR_INVALID_ARGUMENT', 'cannot send a message to oneself');
    if (toSessionId === 0 || !(await deps.knownUsers.exists(toSessionId)))
      return refuse('IM_ERR_NOT_FOUND', `user ${toSessionId} does not exist`);
    owners = [userId, toSessionId];
    recipients = [toSessionId];
  } else if (sessionType === SessionType.GROUP) {
    const group = await deps.store.groups.get(toSessionId);
    if (!group || group.status !== 'active')
      return refuse('IM_ERR_NOT_FOUND', `group ${toSessionId} does not exist`);
    // Roles and mutes come with the member list (one query): a muted sender is refused below,
    // once a retry of a message stored before the mute has been looked for (ADR 0015).
    const states = await deps.store.groups.memberStates(toSessionId);
    const members = states.map((m) => m.userId);
    // A system account (api sends only, see UpstreamRequest.system_sender) announces to groups
    // it is not in; anyone else must be a member.
    if (!members.includes(userId) && !ctx.req.systemSender)
      return refuse('IM_ERR_FORBIDDEN', 'only members may send to a group');
    // A member is checked as a member even on a system send: `system` only lets a non-member post.
    muted = muteReason(
      group,
      states.find((m) => m.userId === userId),
      ctx.req.systemSender,
    );
    owners = members;
    recipients = members.filter((m) => m !== userId);
  } else {
    return refuse('IM_ERR_INVALID_ARGUMENT', `session_type ${sessionType} is not 1 (single) or 2 (group)`);
  }

  // A redelivered request was probably stored by the attempt before: look it up first, so it takes
  // no id. A first attempt goes straight to the write, whose unique key on (sender, client_msg_id)
  // catches a client's own retry ('duplicate' below); that saves a query per message.
  // Group sends keep the lookup: group changes take ids from the same counter in another lane, so
  // an id given back there may already be followed by another (a hole).
  // With a before-send hook, a retry must be found before the hook is asked again (it would cost
  // the budget twice, and a rewrite would differ from what the client resends).
  const lookFirst = ctx.attempt > 1 || sessionType === SessionType.GROUP || deps.beforeSend !== undefined;
  let stored = lookFirst ? await deps.store.messages.findSent(userId, msg.clientMsgId) : undefined;
  if (stored && !sameMessage(stored, sessionType, toSessionId, msg, deps.beforeSend !== undefined))
    return refuse('IM_ERR_DUPLICATE_MISMATCH', 'client_msg_id was already used for another message');
  if (!stored && muted !== null) return refuse('IM_ERR_GROUP_MUTED', muted);
  // A recipient who blocked the sender gets nothing (issue 12). After the retry lookup: a message
  // stored before the block is still acked as stored. The api sends through here too.
  // A system account (api) is refused too: a user may block a bot.
  if (!stored && sessionType === SessionType.SINGLE && (await deps.knownBlocks.blocks(toSessionId, userId)))
    return refuse('IM_ERR_BLOCKED', `user ${toSessionId} does not accept your messages`);
  if (!stored && deps.beforeSend) {
    const verdict = await deps.beforeSend.check({
      fromUserId: userId,
      sessionType,
      toSessionId,
      clientMsgId: msg.clientMsgId,
      msgType: msg.msgType,
      msgData: msg.msgData,
      system: ctx.req.systemSender,
    });
    if (verdict.action === 'refuse')
      return refuse(
        'IM_ERR_REFUSED_BY_HOOK',
        verdict.reason ? `${verdict.code}: ${verdict.reason}` : verdict.code,
      );
    if (verdict.action === 'unavailable')
      return refuse('IM_ERR_UNAVAILABLE', 'the message check is unavailable; retry later');
    if (verdict.action === 'rewrite') {
      if (verdict.msgData.length > deps.options.maxMsgDataBytes)
        return refuse('IM_ERR_INVALID_ARGUMENT', 'msg_data too large after the before-send hook');
      msg.msgType = verdict.msgType;
      msg.msgData = verdict.msgData;
    }
  }
  if (!stored) {
    const convKey = conversationKey(sessionType, userId, toSessionId);
    const conv =
      sessionType === SessionType.GROUP
        ? { type: SessionType.GROUP, groupId: toSessionId }
        : { type: SessionType.SINGLE, a: userId, b: toSessionId };
    const serverMsgId = await deps.cache.sequences.next(convKey, () =>
      deps.store.messages.maxServerMsgId(conv),
    );
    const record: MessageRecord = {
      serverMsgId,
      clientMsgId: msg.clientMsgId,
      fromUserId: userId,
      sessionType,
      toSessionId,
      msgType: msg.msgType,
      msgData: msg.msgData,
      attach: '',
      senderClientType: ctx.req.clientType,
      msgStatus: 0,
      createTime: Math.floor(Date.now() / 1000),
    };
    let result: Awaited<ReturnType<Store['messages']['save']>>;
    try {
      result = await deps.store.messages.save(record, owners);
    } catch (err) {
      await giveBack(deps, convKey, conv, serverMsgId, err);
      throw err;
    }
    if (result === 'duplicate') {
      // The id taken above was not written: it goes back, or the conversation has a hole.
      await giveBack(deps, convKey, conv, serverMsgId);
      stored = await deps.store.messages.findSent(userId, msg.clientMsgId);
      if (!stored) throw new Error('duplicate send vanished');
      if (!sameMessage(stored, sessionType, toSessionId, msg, deps.beforeSend !== undefined))
        return refuse('IM_ERR_DUPLICATE_MISMATCH', 'client_msg_id was already used for another message');
    } else {
      stored = record;
      deps.metrics.messagesStored.inc({
        session_type: sessionType === SessionType.GROUP ? 'group' : 'single',
      });
    }
  }
  await deliver(deps, ctx, stored, await deps.knownUsers.nickName(userId), recipients);
}

/**
 * Whether a send that found its (sender, client_msg_id) already stored is a retry of that message:
 * the same conversation and content. Anything else reuses the id for a new message, and answering
 * it with the stored one would deliver it to the wrong conversation (issue 10 #10).
 */
function sameMessage(
  stored: MessageRecord,
  sessionType: number,
  toSessionId: number,
  msg: BodyOf<typeof CommandId.MSG_DATA>,
  hooked = false,
): boolean {
  const sameConversation = stored.sessionType === sessionType && stored.toSessionId === toSessionId;
  // A before-send hook may have rewritten what was stored: only the conversation can be compared.
  if (hooked) return sameConversation;
  return (
    sameConversation &&
    stored.msgType === msg.msgType &&
    Buffer.compare(Buffer.from(stored.msgData), Buffer.from(msg.msgData)) === 0
  );
}

/** Ack the sender, fan out to recipients and the sender's other devices, feed the tap. */
async function deliver(
  deps: LogicDeps,
  ctx: RequestContext,
  m: MessageRecord,
  nick: string,
  recipients: number[],
): Promise<void> {
  const ack = CIM.Message.CIMMsgDataAck.encode({
    fromUserId: m.fromUserId,
    toSessionId: m.toSessionId,
    clientMsgId: m.clientMsgId,
    serverMsgId: m.serverMsgId,
    resCode: CIM.Def.CIMResCode.RES_CODE_OK,
    sessionType: m.sessionType,
    createTime: m.createTime,
  }).finish();
  const data = CIM.Message.CIMMsgData.encode({
    fromUserId: m.fromUserId,
    fromNickName: nick,
    toSessionId: m.toSessionId,
    clientMsgId: m.clientMsgId,
    serverMsgId: m.serverMsgId,
    createTime: m.createTime,
    msgType: m.msgType,
    sessionType: m.sessionType,
    msgData: m.msgData,
  }).finish();
  const convKey = conversationKey(m.sessionType, m.fromUserId, m.toSessionId);
  const intent: mqim.v1.IDeliveryIntent = {
    userIds: [...recipients, m.fromUserId],
    cmd: CommandId.MSG_DATA,
    body: data,
    excludeGateId: ctx.gateId,
    excludeConnId: ctx.connId,
    originAtMs: ctx.receivedAtMs,
    push: {
      sessionType: m.sessionType,
      serverMsgId: m.serverMsgId,
      fromUserId: m.fromUserId,
      fromNickName: nick,
      msgType: m.msgType,
      sessionId: m.sessionType === SessionType.GROUP ? m.toSessionId : m.fromUserId,
      preview:
        m.msgType === CIM.Def.CIMMsgType.MSG_TYPE_TEXT
          ? Buffer.from(m.msgData).toString('utf8').slice(0, 80)
          : '',
    },
  };
  const tap: mqim.v1.IPersistedMessage = {
    serverMsgId: m.serverMsgId,
    clientMsgId: m.clientMsgId,
    fromUserId: m.fromUserId,
    sessionType: m.sessionType,
    toSessionId: m.toSessionId,
    msgType: m.msgType,
    createTime: m.createTime,
    msgDataSize: m.msgData.length,
    recipientCount: recipients.length,
    senderClientType: m.senderClientType,
    persistedAtMs: Date.now(),
  };
  const stored = messageStoredEvent(tap, m.fromUserId);
  if (deps.options.ackViaJob) {
    // The job puts the ack in the sender's gate batch with the deliveries: no publish of its own.
    intent.reply = { connId: ctx.connId, cmd: CommandId.MSG_DATA_ACK, seq: ctx.seq, body: ack };
    intent.replyGateId = ctx.gateId;
    // Not awaited here: the conversation's next message may be stored meanwhile (pipelined); the
    // upstream message is acked once these are stored (Logic.onUpstream).
    ctx.after(deps.intents.publish(intent, convKey), deps.tap.publish(tap), deps.events.publish(stored));
    return;
  }
  ctx.after(
    ctx.reply(CommandId.MSG_DATA_ACK, ack),
    deps.intents.publish(intent, convKey),
    deps.tap.publish(tap),
    deps.events.publish(stored),
  );
}

/**
 * MESSAGE_STORED for a stored row: the tap's record, keyed by conversation and server id. A replay
 * of the request (the row was found, not written) publishes the same event id again.
 */
export function messageStoredEvent(record: mqim.v1.IPersistedMessage, actorUserId: number): mqim.v1.IEvent {
  return {
    eventId: messageEventId(
      record.sessionType ?? 0,
      Number(record.fromUserId ?? 0),
      Number(record.toSessionId ?? 0),
      Number(record.serverMsgId ?? 0),
    ),
    type: mqim.v1.EventType.EVENT_TYPE_MESSAGE_STORED,
    atMs: Number(record.persistedAtMs ?? 0),
    actorUserId,
    message: record,
  };
}

async function refuseSend(
  deps: LogicDeps,
  ctx: RequestContext,
  msg: BodyOf<typeof CommandId.MSG_DATA>,
  toSessionId: number,
  err: MqimError,
): Promise<void> {
  deps.metrics.errors.inc({ code: err.code });
  const ack = encodeRefusedSendAck(ctx.userId, { ...msg, toSessionId });
  await Promise.all([ctx.reply(CommandId.MSG_DATA_ACK, ack), ctx.replyError(err)]);
}
