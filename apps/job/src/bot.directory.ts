import type { BotWebhook, Store } from '@mqim/store';
import type { BotDirectory, BotHook } from './observer.hooks';

/** The store takes a bounded id list per call. */
const CHUNK = 500;

/**
 * The bots of the store (`im_bot`), asked once per event batch for the batch's senders and
 * single-chat peers, and for the groups it has messages in: a bot registered through the API, or
 * added to a group, gets the next message, and the store sees one indexed query per batch and
 * kind, not per message.
 */
export class StoreBotDirectory implements BotDirectory {
  constructor(private readonly store: Store) {}

  async webhooksOf(userIds: readonly number[]): Promise<Map<number, BotHook>> {
    const out = new Map<number, BotHook>();
    for (const chunk of chunks(userIds))
      for (const b of await this.store.bots.webhooksAmong(chunk)) out.set(b.userId, hookOf(b));
    return out;
  }

  async inGroups(groupIds: readonly number[]): Promise<Map<number, Map<number, BotHook>>> {
    const out = new Map<number, Map<number, BotHook>>();
    for (const chunk of chunks(groupIds))
      for (const b of await this.store.bots.inGroups(chunk)) {
        let members = out.get(b.groupId);
        if (!members) out.set(b.groupId, (members = new Map()));
        members.set(b.userId, { ...hookOf(b), joinedAt: b.joinedAt });
      }
    return out;
  }
}

function hookOf(b: BotWebhook): BotHook {
  return b.secret === null ? { url: b.webhookUrl } : { url: b.webhookUrl, secret: b.secret };
}

function chunks(ids: readonly number[]): number[][] {
  const unique = [...new Set(ids)].filter((id) => Number.isSafeInteger(id) && id > 0);
  const out: number[][] = [];
  for (let i = 0; i < unique.length; i += CHUNK) out.push(unique.slice(i, i + CHUNK));
  return out;
}
