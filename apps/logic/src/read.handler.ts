import {
  CIM,
  CommandId,
  MqimError,
  conversationKey,
  decodeBody,
  mqim,
  positionEventId,
  toId,
} from '@mqim/protocol';
import type { LogicDeps } from './logic-deps';
import type { RequestContext } from './request-context';

/**
 * 0x0303: the reader's unread count for the session is cleared (durably), then 0x0304 goes to
 * the peer (single chat) or to the author of the message read up to (group — telling all 5,000
 * members about every read would be a storm), and to the reader's other devices. Only a party of
 * the conversation may: the peer of a single chat who has a session with it, a group's member.
 */
export async function handleReadAck(deps: LogicDeps, ctx: RequestContext): Promise<void> {
  const req = decodeBody(CommandId.MSG_READ_ACK, ctx.req.body);
  const sessionId = toId(req.sessionId, 'session_id');
  const msgId = toId(req.msgId, 'msg_id');
  const type = req.sessionType as number;
  if (type !== 1 && type !== 2) throw new MqimError('IM_ERR_INVALID_ARGUMENT', 'session_type must be 1 or 2');
  if (type === 2 && !(await deps.store.groups.isMember(sessionId, ctx.userId)))
    throw new MqimError('IM_ERR_FORBIDDEN', 'not a member of this group');
  // A single chat is only a party's to read: the reader has a session with the peer once a
  // message went either way. Without it anyone could send read notices to any user (issue 10 #12).
  if (type === 1 && (sessionId === ctx.userId || !(await deps.store.sessions.get(ctx.userId, 1, sessionId))))
    throw new MqimError('IM_ERR_FORBIDDEN', 'no conversation with this user');
  const readUpTo = await deps.store.sessions.markRead(ctx.userId, type, sessionId, msgId);

  const notify = CIM.Message.CIMMsgDataReadNotify.encode({
    userId: ctx.userId,
    sessionId,
    msgId,
    sessionType: type,
  }).finish();
  const users = new Set<number>([ctx.userId]);
  if (type === 1) users.add(sessionId);
  else if (msgId > 0) {
    const [read] = await deps.store.messages.history(ctx.userId, type, sessionId, {
      beforeMsgId: msgId + 1,
      limit: 1,
    });
    if (read && read.serverMsgId === msgId && read.fromUserId !== ctx.userId) users.add(read.fromUserId);
  }
  // The mark the row now holds (a stale or bogus msg_id does not move it): what a data team
  // reconciles with im_session.read_up_to. No session, no mark, no event.
  const read: mqim.v1.IEvent | undefined =
    readUpTo === undefined
      ? undefined
      : {
          eventId: positionEventId('read', ctx.userId, type, sessionId, readUpTo),
          type: mqim.v1.EventType.EVENT_TYPE_READ,
          actorUserId: ctx.userId,
          position: {
            userId: ctx.userId,
            sessionType: type,
            sessionId,
            msgId: readUpTo,
            reportedAtMs: ctx.receivedAtMs,
          },
        };
  const notified = deps.intents.publish(
    {
      userIds: [...users],
      cmd: CommandId.MSG_READ_NOTIFY,
      body: notify,
      excludeGateId: ctx.gateId,
      excludeConnId: ctx.connId,
      originAtMs: ctx.receivedAtMs,
    },
    conversationKey(type, ctx.userId, sessionId),
  );
  await Promise.all([notified, read ? deps.events.publish(read) : undefined]);
}
