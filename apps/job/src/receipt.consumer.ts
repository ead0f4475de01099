import type { ReceivedMessage } from '@mqim/bus';
import type { ReceiptBuffer, ReceiptEntry } from '@mqim/cache';
import type { Logger } from '@mqim/config';
import { RECEIPT_BATCH_TAG, longToNumber, mqim } from '@mqim/protocol';
import type { SessionType, Store } from '@mqim/store';

/**
 * Client delivery receipts -> the receipt buffer (newest delivered id per user and session).
 * Clients may leave server_msg_id at 0 and name only the client_msg_id; then the timeline is asked.
 */
export class ReceiptConsumer {
  constructor(
    private readonly receipts: ReceiptBuffer,
    private readonly store: Store,
    private readonly logger: Logger,
  ) {}

  async handle(msg: ReceivedMessage): Promise<void> {
    let list: mqim.v1.IDeliveryReceipt[];
    try {
      list =
        msg.tag === RECEIPT_BATCH_TAG
          ? mqim.v1.DeliveryReceiptBatch.decode(msg.body).receipts
          : [mqim.v1.DeliveryReceipt.decode(msg.body)];
    } catch (err) {
      this.logger.error({ err: (err as Error).message }, 'undecodable receipt dropped');
      return;
    }
    const entries: ReceiptEntry[] = [];
    for (const r of list) {
      const entry = await this.toEntry(r);
      if (entry) entries.push(entry);
    }
    // One buffer write for the whole batch (one Redis pipeline on the cluster).
    if (entries.length) await this.receipts.record(entries);
  }

  private async toEntry(r: mqim.v1.IDeliveryReceipt): Promise<ReceiptEntry | undefined> {
    const userId = longToNumber(r.userId);
    const sessionId = longToNumber(r.sessionId);
    if (r.sessionType !== 1 && r.sessionType !== 2) return undefined;
    const sessionType: SessionType = r.sessionType;
    let serverMsgId = longToNumber(r.serverMsgId);
    if (!serverMsgId && r.clientMsgId) {
      const [m] = await this.store.messages.findByClientIds(userId, sessionType, sessionId, [r.clientMsgId]);
      serverMsgId = m?.serverMsgId ?? 0;
    }
    // A receipt for a message the user does not have is noise (or forged): nothing to record.
    if (!serverMsgId) return undefined;
    return { userId, sessionType, sessionId, serverMsgId, at: longToNumber(r.receivedAtMs) };
  }
}
