import type { ImMessage } from './im.types';

/** Ids remembered per conversation; anything older counts as delivered. */
const KEPT_IDS = 1024;
/**
 * Conversations remembered, least recently active forgotten first: a long-lived client (a bot, a
 * support desk) in many conversations must not grow without bound. A forgotten conversation only
 * loses its dedupe window and its sync start point.
 */
const KEPT_CONVERSATIONS = 10_000;
/** clientMsgIds of our own sends remembered, so that a sync does not hand them back to the app. */
const KEPT_OWN = 4096;

interface Conversation {
  /** Highest server_msg_id handed to the app. */
  high: number;
  /** server_msg_ids handed to the app, the newest KEPT_IDS of them. */
  ids: Set<number>;
  /** Below this, `ids` has forgotten: such an id counts as delivered. */
  floor: number;
}

/**
 * What this client has handed to the app, per conversation, so that a message that comes twice
 * (pushed on the old gate and read back by the sync after a reconnect, or pushed again by a
 * redelivery) reaches the app once. Keyed by server_msg_id, which the server assigns once per
 * stored message and increases strictly within a conversation.
 */
export class DeliveryLedger {
  private readonly conversations = new Map<string, Conversation>();
  private readonly own = new Set<string>();

  /** True the first time `message` is seen (and records it); false for a duplicate. */
  admit(message: ImMessage): boolean {
    const id = message.serverMsgId;
    // A server that sets no id gives nothing to deduplicate by.
    if (!(id > 0)) return true;
    const key = conversationKey(message.sessionType, message.sessionId);
    let c = this.conversations.get(key);
    if (c === undefined) c = { high: 0, ids: new Set(), floor: 0 };
    // Re-inserted: the Map's order is then least recently active first.
    this.conversations.delete(key);
    this.conversations.set(key, c);
    if (this.conversations.size > KEPT_CONVERSATIONS)
      this.conversations.delete(this.conversations.keys().next().value!);
    if (c.ids.has(id) || id < c.floor) return false;
    c.ids.add(id);
    if (id > c.high) c.high = id;
    if (c.ids.size > KEPT_IDS) {
      const oldest = Math.min(...c.ids);
      c.ids.delete(oldest);
      c.floor = Math.max(c.floor, oldest + 1);
    }
    return true;
  }

  /** Highest server_msg_id handed to the app in a conversation; undefined when none was. */
  high(sessionType: number, sessionId: number): number | undefined {
    return this.conversations.get(conversationKey(sessionType, sessionId))?.high;
  }

  /** Remembers a clientMsgId this client sent (its copy in history is not news to the app). */
  sent(clientMsgId: string): void {
    this.own.delete(clientMsgId);
    this.own.add(clientMsgId);
    if (this.own.size > KEPT_OWN) this.own.delete(this.own.values().next().value!);
  }

  isOwn(clientMsgId: string): boolean {
    return this.own.has(clientMsgId);
  }
}

export function conversationKey(sessionType: number, sessionId: number): string {
  return `${sessionType}:${sessionId}`;
}
