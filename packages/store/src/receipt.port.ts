import type { SessionType } from './message.port';

/** A delivery receipt as the job collected it: the owner got everything up to `msgId`. */
export interface DeliveredReceipt {
  readonly ownerUserId: number;
  readonly sessionType: SessionType;
  readonly sessionId: number;
  readonly msgId: number;
  /** When it was delivered, Unix milliseconds. */
  readonly atMs: number;
}

/** `im_ack_time` row: delivery and read high-water marks of one owner's session. */
export interface AckTimeRecord {
  readonly deliveredMsgId: number;
  readonly deliveredAtMs: number;
  readonly readMsgId: number;
  readonly readAtMs: number;
}

/** Ack times, flushed in batches by the job. */
export interface ReceiptRepository {
  /**
   * Upserts delivery marks in as few statements as the placeholder limits allow (entries for the
   * same session are folded first). A mark only moves forward: an entry older than the stored
   * `delivered_msg_id` changes nothing, so out-of-order and replayed batches are harmless.
   * Atomic per call.
   */
  recordDelivered(entries: readonly DeliveredReceipt[]): Promise<void>;

  get(ownerUserId: number, sessionType: SessionType, sessionId: number): Promise<AckTimeRecord | null>;
}
