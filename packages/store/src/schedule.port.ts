import type { SessionType } from './message.port';

/** 0 pending, 1 firing (claimed, being sent), 2 sent, 3 cancelled, 4 failed (refused when sent). */
export type ScheduleStatus = 'pending' | 'firing' | 'sent' | 'cancelled' | 'failed';

export interface NewScheduledMessage {
  readonly userId: number;
  readonly sessionType: SessionType;
  readonly toSessionId: number;
  readonly msgType: number;
  /** At most 65,535 bytes. */
  readonly msgData: Uint8Array;
  /** A system sender may post to a group it is not a member of (the API's `system`). */
  readonly systemSender?: boolean;
  /** Unix ms. */
  readonly sendAtMs: number;
  /**
   * Made through the API (a trusted business server): sent as the api's, so it may carry
   * msg_type 9 (NOTIFICATION). A client's never is. @default false
   */
  readonly createdByApi?: boolean;
  /**
   * The client's create request (logic's request key, 1..64 ASCII), unique per user: a second
   * create with it answers the first row (`create` returns it). '' or absent: none.
   */
  readonly requestKey?: string;
}

export interface ScheduledMessage extends Required<NewScheduledMessage> {
  readonly scheduleId: number;
  readonly status: ScheduleStatus;
  /** Grows with each reschedule; a timer of an older version is ignored. */
  readonly version: number;
  /** The version a broker timer was published for (0: none). */
  readonly armedVersion: number;
  /** Once sent. */
  readonly serverMsgId: number;
  /** Once failed: the refusal's code. */
  readonly error: string;
  readonly createdAtMs: number;
  readonly updatedAtMs: number;
}

/**
 * Scheduled messages (`im_scheduled_message`, migration 0006). Changes by the owner (cancel,
 * reschedule) and the sender's claim are conditional updates, so whichever comes first wins:
 * a message being sent can no longer be cancelled, a cancelled one is never sent.
 */
export interface ScheduleRepository {
  /** A new row; with a `requestKey` the user already used, that request's row instead. */
  create(message: NewScheduledMessage): Promise<ScheduledMessage>;
  /** The user's row made by the create request `requestKey`, if any. */
  byRequestKey(userId: number, requestKey: string): Promise<ScheduledMessage | null>;
  get(scheduleId: number): Promise<ScheduledMessage | null>;
  /** The user's pending messages, soonest first, at most `limit` (1..1000). */
  pendingOf(userId: number, limit: number): Promise<ScheduledMessage[]>;
  /** How many pending messages the user has (each user's are capped by the callers). */
  countPending(userId: number): Promise<number>;
  /** Owner only, pending only: 'done', or why not. */
  cancel(scheduleId: number, userId: number): Promise<'done' | 'not_found' | 'too_late'>;
  /** Owner only, pending only: a new send time and version (the old timer is then ignored). */
  reschedule(
    scheduleId: number,
    userId: number,
    sendAtMs: number,
  ): Promise<ScheduledMessage | 'not_found' | 'too_late'>;
  /** Pending messages due by `untilMs` whose current version has no timer yet, soonest first. */
  toArm(untilMs: number, limit: number): Promise<ScheduledMessage[]>;
  /** Records that a timer was published for `version`; false when another process did it first or it changed. */
  markArmed(scheduleId: number, version: number): Promise<boolean>;
  /**
   * Pending or firing messages that should have gone out before `beforeMs` and were not touched
   * since `beforeMs` (their timer was lost, their sender died): to be fired again.
   */
  overdue(beforeMs: number, limit: number): Promise<ScheduledMessage[]>;
  /** Marks `scheduleId` as looked at now (so `overdue` does not return it again at once). */
  touch(scheduleId: number): Promise<void>;
  /** pending or firing with this version → firing; false otherwise (cancelled, sent, rescheduled). */
  claim(scheduleId: number, version: number): Promise<boolean>;
  /** firing with this version → sent (with its id) or failed (with the refusal's code). */
  finish(
    scheduleId: number,
    version: number,
    outcome: { serverMsgId: number } | { error: string },
  ): Promise<void>;
}
