import { SessionType } from './session-type';

/**
 * The key of the conversation a message belongs to, as every role must compute it: the MQ message
 * group that keeps one conversation's upstream traffic in order, and the scope of its
 * server_msg_id counter.
 *
 * - single chat (session_type 1): the unordered user pair, `s:<low id>:<high id>`, so both
 *   directions of a chat share one key;
 * - group (session_type 2): `g:<group id>`;
 * - any other session type: `u:<user id>`. Such a request is rejected later, but computing its key
 *   must not throw on the gate's hot path.
 *
 * @param userId the logged-in user (never the body's from_user_id).
 * @param sessionId the peer user (single chat) or the group.
 */
export function conversationKey(sessionType: number, userId: number, sessionId: number): string {
  if (sessionType === SessionType.SINGLE)
    return userId <= sessionId ? `s:${userId}:${sessionId}` : `s:${sessionId}:${userId}`;
  if (sessionType === SessionType.GROUP) return `g:${sessionId}`;
  return `u:${userId}`;
}
