import type { ReceivedMessage } from '@mqim/bus';
import type { ReceiptBuffer, ReceiptEntry } from '@mqim/cache';
import type { Logger } from '@mqim/config';
import { RECEIPT_BATCH_TAG, longToNumber, mqim, isSessionType } from '@mqim/protocol';
import type { SessionType, Store } from '@mqim/store';
import { KnownSessions } from './known-sessions';

/**
 * Client delivery receipts -> the receipt buffer (newest delivered id per user and session).
 * Clients may leave server_msg_id at 0 and name only the client_msg_id; then the timeline is asked.
 * A receipt naming a session its sender has no conversation with is dropped (issue 10 #12: forged
 * receipts for arbitrary sessions made rows and buffer entries for anyone): the check is one store
 * query per batch for the sessions not already known, none once they are.
 */
export class ReceiptConsumer {
  private readonly known: KnownSessions;

  constructor(
    private readonly receipts: ReceiptBuffer,
    private readonly store: Store,
    private readonly logger: Logger,
  ) {
    this.known = new KnownSessions(store.sessions);
  }

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
      if (!isSessionType(r.sessionType)) continue;
      // Clients name server_msg_id; only a receipt with just client_msg_id costs a store lookup
      // (and an await: a fan-out brings thousands of receipts, most of them need neither).
      const serverMsgId = longToNumber(r.serverMsgId) || (r.clientMsgId ? await this.lookup(r) : 0);
      // A receipt for a message the user does not have is noise (or forged): nothing to record.
      if (!serverMsgId) continue;
      const entry = {
        userId: longToNumber(r.userId),
        sessionType: r.sessionType,
        sessionId: longToNumber(r.sessionId),
        serverMsgId,
        at: longToNumber(r.receivedAtMs),
      };
      // Checked here, where it enters: one receipt the store cannot take (session 0, say) must
      // cost only itself, not the buffer write of the whole batch (issue 10 #5).
      if (!isPositiveId(entry.userId) || !isPositiveId(entry.sessionId) || !isPositiveId(serverMsgId)) {
        this.logger.debug({ receipt: entry }, 'receipt with an invalid id dropped');
        continue;
      }
      if (!Number.isSafeInteger(entry.at) || entry.at <= 0) entry.at = Date.now();
      entries.push(entry);
    }
    if (!entries.length) return;
    const parties = await this.known.filter(
      entries.map((e) => ({
        ownerUserId: e.userId,
        sessionType: e.sessionType as SessionType,
        sessionId: e.sessionId,
      })),
    );
    const mine = entries.filter((_, i) => parties[i]);
    if (mine.length < entries.length)
      this.logger.debug(
        { dropped: entries.length - mine.length, example: entries.find((_, i) => !parties[i]) },
        'receipts naming a session of someone else dropped',
      );
    // One buffer write for the whole batch (one Redis pipeline on the cluster).
    if (mine.length) await this.receipts.record(mine);
  }

  private async lookup(r: mqim.v1.IDeliveryReceipt): Promise<number> {
    const sessionType = r.sessionType as SessionType;
    const [m] = await this.store.messages.findByClientIds(
      longToNumber(r.userId),
      sessionType,
      longToNumber(r.sessionId),
      [r.clientMsgId ?? ''],
    );
    return m?.serverMsgId ?? 0;
  }
}

function isPositiveId(n: number): boolean {
  return Number.isSafeInteger(n) && n > 0;
}
