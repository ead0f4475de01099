import { SessionType } from '@mqim/protocol';

/** `CIMSessionType`: 1 single chat, 2 group (defined once, in the protocol). */
export { SessionType };

/** A message as `logic` hands it to `messages.save`: ids assigned, clock set by the server. */
export interface NewMessage {
  /** Assigned from the per-conversation counter; strictly increasing per conversation. */
  readonly serverMsgId: number;
  /** The client's UUID: 1–64 printable ASCII characters. */
  readonly clientMsgId: string;
  /** The sender; for group notifications the group id. */
  readonly fromUserId: number;
  readonly sessionType: SessionType;
  /** The peer user (single chat) or the group. */
  readonly toSessionId: number;
  readonly msgType: number;
  /** Stored as is (BLOB, at most 65,535 bytes). */
  readonly msgData: Uint8Array;
  /** @default '' */
  readonly attach?: string;
  /** `CIMClientType` of the sending connection. @default 0 */
  readonly senderClientType?: number;
  /** `CIMMsgStatus` stored with the message. @default 0 */
  readonly msgStatus?: number;
  /** Unix seconds, from the server's clock. */
  readonly createTime: number;
}

/**
 * A stored message. Read from a timeline, `toSessionId` is the original target (the peer of the
 * sender for a single chat, the group for a group), whichever owner's view it was read from.
 */
export interface MessageRecord {
  readonly serverMsgId: number;
  readonly clientMsgId: string;
  readonly fromUserId: number;
  readonly sessionType: SessionType;
  readonly toSessionId: number;
  readonly msgType: number;
  readonly msgData: Uint8Array;
  readonly attach: string;
  readonly senderClientType: number;
  readonly msgStatus: number;
  /** Unix seconds. */
  readonly createTime: number;
  /**
   * Set on reads when the message was recalled: `msgStatus` is then {@link RECALLED_MSG_STATUS}
   * and `msgData` is empty (the body is withheld).
   */
  readonly recalled?: RecallMark;
}

/**
 * `msg_status` of a recalled message as reads return it: CoffeeChat's `CIMMsgStatus`
 * SEND_CANCEL (8), so its clients render it as withdrawn. Its `msgData` is empty.
 */
export const RECALLED_MSG_STATUS = 8;

/** Who recalled a message, and when (Unix seconds). */
export interface RecallMark {
  readonly recalledBy: number;
  readonly recalledAt: number;
}

/** A conversation as the id counters see it: a single chat is an unordered pair. */
export type ConversationRef =
  | { readonly type: typeof SessionType.SINGLE; readonly a: number; readonly b: number }
  | { readonly type: typeof SessionType.GROUP; readonly groupId: number };

export interface HistoryQuery {
  /** Only messages strictly older than this id; 0 or absent = from the newest. */
  readonly beforeMsgId?: number;
  /** Page size, already capped by the caller; must be ≥ 1. */
  readonly limit: number;
}

export interface AfterQuery {
  /** Only messages strictly newer than this id; 0 = from the oldest. */
  readonly afterMsgId: number;
  /** Page size, already capped by the caller; must be ≥ 1. */
  readonly limit: number;
}

export type SaveResult = 'inserted' | 'duplicate';

/**
 * Messages: the sender's outbox (`im_message_send_{k}`) and every owner's timeline
 * (`im_message_recv_{k}`).
 */
export interface MessageRepository {
  /** The outbox row of (sender, client_msg_id), or null: how a retried send finds its original. */
  findSent(fromUserId: number, clientMsgId: string): Promise<MessageRecord | null>;

  /**
   * The highest server_msg_id persisted in the conversation, 0 if none. Re-seeds the cache's id
   * counters after Redis lost them; counts only committed saves.
   */
  maxServerMsgId(conversation: ConversationRef): Promise<number>;

  /**
   * Persists one message, atomically: the outbox row, one timeline row per owner, every owner's
   * session (last message, updated_time, unread_cnt + 1 for owners other than the sender) and
   * the conversation's max id. Resolves only once all of it is durable (committed); that is what
   * lets `logic` ack the sender.
   *
   * Idempotent on (fromUserId, clientMsgId): if the sender already stored that client id,
   * nothing is changed and the result is `'duplicate'` (look the original up with `findSent`).
   * `owners`: for a single chat exactly the sender and the peer; for a group every member who
   * gets the message in their timeline, sender included (write diffusion). Duplicates in the
   * list are ignored. Rejects with `MessageIdConflictError` (nothing stored) when an owner's
   * timeline already holds that server_msg_id in that conversation.
   */
  save(message: NewMessage, owners: readonly number[]): Promise<SaveResult>;

  /**
   * One page of an owner's timeline: messages strictly older than `beforeMsgId` (or the newest
   * when 0/absent), at most `limit`, returned ascending by server_msg_id. Pages are exact and
   * gap-free: paging with the first id of each page as the next `beforeMsgId` visits every
   * message once.
   */
  history(
    ownerUserId: number,
    sessionType: SessionType,
    sessionId: number,
    query: HistoryQuery,
  ): Promise<MessageRecord[]>;

  /** The owner's timeline rows with these client ids (unknown ids are skipped), ascending. */
  findByClientIds(
    ownerUserId: number,
    sessionType: SessionType,
    sessionId: number,
    clientMsgIds: readonly string[],
  ): Promise<MessageRecord[]>;

  /** The newest message of the owner's timeline in that session, or null. */
  latest(ownerUserId: number, sessionType: SessionType, sessionId: number): Promise<MessageRecord | null>;

  /**
   * One page of an owner's timeline *forward* (sync after reconnect): messages strictly newer
   * than `afterMsgId`, at most `limit`, ascending by server_msg_id. Exact and gap-free: paging
   * with the last id of each page as the next `afterMsgId` visits every message of the timeline
   * once, whatever was saved meanwhile (server_msg_id only grows; a page ends at a committed
   * row, and a later save in the conversation takes a higher id). Recalled messages are included,
   * marked (`recalled`, body withheld), like every read of this repository.
   */
  after(
    ownerUserId: number,
    sessionType: SessionType,
    sessionId: number,
    query: AfterQuery,
  ): Promise<MessageRecord[]>;

  /** One message of the owner's timeline by its server id, or null. */
  get(
    ownerUserId: number,
    sessionType: SessionType,
    sessionId: number,
    serverMsgId: number,
  ): Promise<MessageRecord | null>;

  /**
   * Marks a message of the conversation recalled, once: the first call stores who and when and
   * returns `inserted: true`; any later call (a retry, a second recaller) changes nothing and
   * returns the first mark with `inserted: false`. Every later read of the message, in every
   * owner's timeline (members who left since included), returns it marked and without its body.
   * The message itself is not checked to exist: the caller has read it first.
   */
  recall(
    conversation: ConversationRef,
    serverMsgId: number,
    mark: RecallMark,
  ): Promise<RecallMark & { readonly inserted: boolean }>;
}
