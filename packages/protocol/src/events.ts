import { conversationKey } from './conversation';
import { mqim } from './generated/proto';

/**
 * The event stream's wire rules (`<prefix>-events`, proto/mqim/v1/events.proto), shared by the
 * roles that publish and the consumers that read it. The ids are the de-duplication key a data
 * team relies on, so they are built here, once, and documented in docs/analytics.md: each one
 * names its effect, so a redelivered request that re-publishes an event publishes the same id.
 */
export type EventFamily = 'message' | 'delivered' | 'read' | 'group' | 'presence' | 'push';

const T = mqim.v1.EventType;

/** The tag (family) of each event type: a batch holds one family, for filtering on the broker. */
export function eventFamily(type: mqim.v1.EventType): EventFamily {
  switch (type) {
    case T.EVENT_TYPE_DELIVERED:
      return 'delivered';
    case T.EVENT_TYPE_READ:
      return 'read';
    case T.EVENT_TYPE_GROUP_CREATED:
    case T.EVENT_TYPE_GROUP_CHANGED:
    case T.EVENT_TYPE_GROUP_DISSOLVED:
      return 'group';
    case T.EVENT_TYPE_USER_ONLINE:
    case T.EVENT_TYPE_USER_OFFLINE:
      return 'presence';
    case T.EVENT_TYPE_PUSH_SENT:
    case T.EVENT_TYPE_PUSH_FAILED:
      return 'push';
    default:
      return 'message';
  }
}

/**
 * `msg/<conversation>/<server_msg_id>`: server ids count per conversation, so the conversation is
 * part of the key (a single chat is the unordered pair `s:<lo>:<hi>`: A→C and B→C both have id 1
 * for C, but in different conversations). A group notice is `msg/g:<group>/<id>` like any group
 * message.
 */
export function messageEventId(
  sessionType: number,
  fromUserId: number,
  toSessionId: number,
  serverMsgId: number,
): string {
  return `msg/${conversationKey(sessionType, fromUserId, toSessionId)}/${serverMsgId}`;
}

/**
 * `recall/<conversation>/<server_msg_id>`: a message is recalled at most once, so the recalled
 * message's own key, under its own prefix (its MESSAGE_STORED event keeps `msg/...`).
 */
export function recallEventId(
  sessionType: number,
  fromUserId: number,
  toSessionId: number,
  serverMsgId: number,
): string {
  return `recall/${conversationKey(sessionType, fromUserId, toSessionId)}/${serverMsgId}`;
}

/** `read/<user>/<session_type>:<session>/<msg_id>`: one per position reached (re-reading it is no new event). */
export function positionEventId(
  kind: 'read' | 'dlv',
  userId: number,
  sessionType: number,
  sessionId: number,
  msgId: number,
): string {
  return `${kind}/${userId}/${sessionType}:${sessionId}/${msgId}`;
}

/** `grp/<group>/<notice_msg_id>`: every group change stores exactly one notice in the group's history. */
export function groupEventId(groupId: number, noticeMsgId: number): string {
  return `grp/${groupId}/${noticeMsgId}`;
}

/** `on/<gate>/<conn>` and `off/<gate>/<conn>`: connection ids are unique per gate process. */
export function presenceEventId(online: boolean, gateId: string, connId: string): string {
  return `${online ? 'on' : 'off'}/${gateId}/${connId}`;
}

/** `push/<user>/<session_type>:<session>/<server_msg_id>`: the newest message a push reported. */
export function pushEventId(
  userId: number,
  sessionType: number,
  sessionId: number,
  serverMsgId: number,
): string {
  return `push/${userId}/${sessionType}:${sessionId}/${serverMsgId}`;
}

/** The events of one `<prefix>-events` message body. */
export function decodeEvents(body: Uint8Array): mqim.v1.IEvent[] {
  return mqim.v1.EventBatch.decode(body).events;
}
