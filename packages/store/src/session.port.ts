import type { MessageRecord, SessionType } from './message.port';

/** `CIMSessionStatusType`. */
export const SessionStatus = { Ok: 1, Deleted: 2 } as const;
export type SessionStatus = (typeof SessionStatus)[keyof typeof SessionStatus];

/** One row of an owner's recent-contacts list (`im_session`). */
export interface SessionRecord {
  readonly ownerUserId: number;
  readonly sessionType: SessionType;
  /** The peer user (single chat, from the owner's view) or the group. */
  readonly sessionId: number;
  readonly status: number;
  /** Messages from others newer than `readUpTo`. */
  readonly unreadCnt: number;
  /** Newest server_msg_id the owner has read in this session (0 = none). */
  readonly readUpTo: number;
  /** Unix seconds of the last change (new message or read). */
  readonly updatedTime: number;
  /** The newest message of the session. */
  readonly lastMessage: MessageRecord;
}

/** Names one owner's session. */
export interface SessionKey {
  readonly ownerUserId: number;
  readonly sessionType: SessionType;
  readonly sessionId: number;
}

/** Where one of an owner's sessions stands: what sync compares a client's cursor with. */
export interface SessionPosition {
  readonly sessionType: SessionType;
  readonly sessionId: number;
  /** The newest server_msg_id in the owner's timeline of the session. */
  readonly lastServerMsgId: number;
  readonly unreadCnt: number;
}

export interface RecentSessionsQuery {
  /** Only sessions changed at or after this Unix second (incremental sync). @default 0 */
  readonly updatedSince?: number;
  /** At most this many sessions. @default unlimited */
  readonly limit?: number;
}

/**
 * Sessions: an owner's conversations with their last message and durable unread count. Rows are
 * written by `messages.save` in the same transaction as the timeline rows, so the unread count
 * always equals what the timeline holds.
 */
export interface SessionRepository {
  /**
   * The owner's sessions, newest first (by the last message's create_time, then server_msg_id),
   * each with its last message and unread count.
   */
  recent(ownerUserId: number, query?: RecentSessionsQuery): Promise<SessionRecord[]>;

  /**
   * Every session of the owner with its newest server_msg_id, ordered by (session_type,
   * session_id): one primary-key range read of `im_session`, which `messages.save` updates in the
   * transaction that writes the timeline rows, so a position never names a message that cannot be
   * read yet.
   */
  positions(ownerUserId: number): Promise<SessionPosition[]>;

  /** One session, or null. */
  get(ownerUserId: number, sessionType: SessionType, sessionId: number): Promise<SessionRecord | null>;

  /**
   * For each key, whether the owner has that session (a message of the conversation is in the
   * owner's timeline), in key order: one query per few hundred keys, primary-key lookups only. For
   * checking in bulk that receipts name conversations of their senders.
   */
  existing(keys: readonly SessionKey[]): Promise<boolean[]>;

  /**
   * Marks the owner's session read up to `upToMsgId` (0 = everything), atomically: unread_cnt
   * becomes the number of timeline rows from others newer than the read mark, read_up_to and
   * the read receipt (`im_ack_time.read_msg_id/read_at_ms`) are recorded and updated_time
   * bumped. The read mark never moves backwards and never beyond the session's newest message.
   * A session the owner has no messages in is left alone. Idempotent.
   * @returns the read mark after the call (what `read_up_to` now holds), undefined when the
   *   owner has no such session
   */
  markRead(
    ownerUserId: number,
    sessionType: SessionType,
    sessionId: number,
    upToMsgId: number,
  ): Promise<number | undefined>;
}
