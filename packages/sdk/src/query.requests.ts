import { CommandId } from '@mqim/protocol/client';
import { fromMsgInfo, toRecentSession, toUserInfo } from './cim.mapper';
import type {
  HistoryQuery,
  ImMessage,
  RecentSessions,
  RequestOptions,
  SessionRef,
  UserInfo,
} from './im.types';
import { checkId, type Requester } from './requester';

// The read-only calls: each one request, one response, matched by seq.

export async function recentSessions(
  rq: Requester,
  options?: RequestOptions & { updatedSince?: number },
): Promise<RecentSessions> {
  const { body } = await rq.call(
    CommandId.LIST_RECENT_CONTACT_SESSION_REQ,
    (me) => ({ userId: me, latestUpdateTime: options?.updatedSince ?? 0 }),
    CommandId.LIST_RECENT_CONTACT_SESSION_RSP,
    options,
  );
  return { unreadTotal: body.unreadCounts, sessions: body.contactSessionList.map(toRecentSession) };
}

export async function history(
  rq: Requester,
  query: HistoryQuery,
  options?: RequestOptions,
): Promise<ImMessage[]> {
  const { body, me } = await rq.call(
    CommandId.LIST_MSG_REQ,
    (userId) => ({
      userId,
      sessionType: query.sessionType,
      sessionId: checkId(query.sessionId, 'sessionId'),
      endMsgId: checkId(query.endMsgId ?? 0, 'endMsgId'),
      limitCount: query.limit ?? 20,
    }),
    CommandId.LIST_MSG_RSP,
    options,
  );
  return body.msgList.map((m) => fromMsgInfo(m, me));
}

export async function latestMsgId(
  rq: Requester,
  session: SessionRef,
  options?: RequestOptions,
): Promise<string | undefined> {
  const { body } = await rq.call(
    CommandId.MSG_GET_LATEST_MSG_ID_REQ,
    (userId) => ({
      userId,
      sessionType: session.sessionType,
      sessionId: checkId(session.sessionId, 'sessionId'),
    }),
    CommandId.MSG_GET_LATEST_MSG_ID_RSP,
    options,
  );
  return body.latestMsgId === '' ? undefined : body.latestMsgId;
}

export async function messagesById(
  rq: Requester,
  session: SessionRef & { clientMsgIds: string[] },
  options?: RequestOptions,
): Promise<ImMessage[]> {
  const { body, me } = await rq.call(
    CommandId.MSG_GET_BY_MSG_ID_REQ,
    (userId) => ({
      userId,
      sessionType: session.sessionType,
      sessionId: checkId(session.sessionId, 'sessionId'),
      msgIdList: session.clientMsgIds,
    }),
    CommandId.MSG_GET_BY_MSG_ID_RSP,
    options,
  );
  return body.msgList.map((m) => fromMsgInfo(m, me));
}

export async function friends(rq: Requester, options?: RequestOptions): Promise<UserInfo[]> {
  const { body } = await rq.call(
    CommandId.FRIEND_QUERY_USER_LIST_REQ,
    (userId) => ({ userId }),
    CommandId.FRIEND_QUERY_USER_LIST_RSP,
    options,
  );
  return body.userInfoList.map(toUserInfo);
}
