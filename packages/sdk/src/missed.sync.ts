import type { DeliveryLedger } from './delivery.ledger';
import type { HistoryQuery, ImMessage, RecentSessions, RequestOptions } from './im.types';

/** The two queries a sync needs; the client itself in practice. */
export interface SyncSource {
  recentSessions(options?: RequestOptions): Promise<RecentSessions>;
  history(query: HistoryQuery, options?: RequestOptions): Promise<ImMessage[]>;
}

export interface SyncOptions {
  /** The logged-in user. */
  me: number;
  /**
   * Unix seconds: in a conversation the app has received nothing from yet, messages created from
   * then on are missed ones (the client's first login); older ones are the app's own history.
   */
  since: number;
  /** Messages read back per history page. */
  pageSize: number;
  /** Cap per conversation; older missed messages stay reachable through `history()`. */
  maxPerConversation: number;
  timeoutMs: number;
}

/**
 * The messages this client missed while it was away: for every recent session whose newest
 * message the app has not had, the history pages newer than what the app has (or, for a
 * conversation it has nothing of, newer than `since`), minus this client's own sends. Ascending
 * per conversation; conversations one after another. The ledger is not updated here: the caller
 * admits each message as it hands it over, together with the pushes that arrived meanwhile.
 */
export async function fetchMissed(
  source: SyncSource,
  ledger: DeliveryLedger,
  options: SyncOptions,
): Promise<ImMessage[]> {
  const request = { timeoutMs: options.timeoutMs };
  const { sessions } = await source.recentSessions(request);
  const missed: ImMessage[] = [];
  for (const session of sessions) {
    const last = session.lastMessage;
    if (last === undefined) continue;
    const high = ledger.high(session.sessionType, session.sessionId);
    const isNew = (m: { serverMsgId: number; createTime: number }) =>
      high !== undefined ? m.serverMsgId > high : m.createTime >= options.since;
    if (!isNew(last)) continue;
    const found: ImMessage[] = [];
    let endMsgId = 0;
    for (;;) {
      const page = await source.history(
        {
          sessionType: session.sessionType,
          sessionId: session.sessionId,
          endMsgId,
          limit: options.pageSize,
        },
        request,
      );
      if (page.length === 0) break;
      const fresh = page.filter(isNew);
      found.unshift(...fresh);
      if (fresh.length < page.length || found.length >= options.maxPerConversation) break;
      endMsgId = page[0]!.serverMsgId;
    }
    for (const m of found.slice(-options.maxPerConversation))
      if (m.fromUserId !== options.me || !ledger.isOwn(m.clientMsgId)) missed.push(m);
  }
  return missed;
}
