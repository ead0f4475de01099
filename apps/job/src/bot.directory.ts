import type { Store } from '@mqim/store';
import type { BotDirectory } from './observer.hooks';

/**
 * The bots of the store (`im_bot`), asked once per event batch for the single chats' peers of
 * the batch: a bot registered through the API gets the next message sent to it, and the store
 * sees one indexed query per batch, not per message.
 */
export class StoreBotDirectory implements BotDirectory {
  constructor(private readonly store: Store) {}

  async webhooksOf(userIds: readonly number[]): Promise<Map<number, string>> {
    const ids = [...new Set(userIds)].filter((id) => Number.isSafeInteger(id) && id > 0);
    const out = new Map<number, string>();
    // The store takes a bounded id list per call.
    for (let i = 0; i < ids.length; i += 500)
      for (const b of await this.store.bots.among(ids.slice(i, i + 500))) out.set(b.userId, b.webhookUrl);
    return out;
  }
}
