import { CommandId } from '@mqim/protocol/client';
import { fromMsgInfo, toSyncConversation, toSyncCursor } from './cim.mapper';
import type {
  RecallInput,
  RecallResult,
  RequestOptions,
  SyncConversationPage,
  SyncConversationQuery,
  SyncCursor,
  SyncPage,
  SyncQuery,
} from './im.types';
import { checkId, type Requester } from './requester';

// mqim's sync and recall extensions (0x0810-0x0816, docs/protocol.md).

export async function syncConversation(
  rq: Requester,
  query: SyncConversationQuery,
  options?: RequestOptions,
): Promise<SyncConversationPage> {
  const { body, me } = await rq.call(
    CommandId.SYNC_CONV_REQ,
    () => ({
      sessionType: query.sessionType,
      sessionId: checkId(query.sessionId, 'sessionId'),
      afterServerMsgId: checkId(query.afterServerMsgId, 'afterServerMsgId'),
      limit: query.limit ?? 0,
    }),
    CommandId.SYNC_CONV_RSP,
    options,
  );
  return { messages: body.msgList.map((m) => fromMsgInfo(m, me)), hasMore: body.hasMore };
}

export async function sync(
  rq: Requester,
  cursor: SyncCursor,
  query?: SyncQuery,
  options?: RequestOptions,
): Promise<SyncPage> {
  const { body, me } = await rq.call(
    CommandId.SYNC_REQ,
    () => ({
      cursor: {
        positions: cursor.positions.map((p) => ({
          sessionType: p.sessionType,
          sessionId: checkId(p.sessionId, 'sessionId'),
          serverMsgId: checkId(p.serverMsgId, 'serverMsgId'),
        })),
      },
      maxConversations: query?.maxConversations ?? 0,
      maxMessages: query?.maxMessages ?? 0,
    }),
    CommandId.SYNC_RSP,
    options,
  );
  return {
    conversations: body.conversations.map((c) => toSyncConversation(c, me)),
    cursor: toSyncCursor(body.cursor),
    hasMore: body.hasMore,
  };
}

export async function recall(
  rq: Requester,
  input: RecallInput,
  options?: RequestOptions,
): Promise<RecallResult> {
  const { body } = await rq.call(
    CommandId.RECALL_REQ,
    () => ({
      sessionType: input.sessionType,
      sessionId: checkId(input.sessionId, 'sessionId'),
      serverMsgId: checkId(input.serverMsgId, 'serverMsgId'),
    }),
    CommandId.RECALL_RSP,
    options,
  );
  return { recalledAt: body.recalledAt };
}
