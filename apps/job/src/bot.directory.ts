import type { Store } from '@mqim/store';
import type { BotDirectory } from './observer.hooks';

/**
 * The bots of the store (`im_bot`), read whole and kept for `refreshMs`: the observer asks for
 * every stored message, and bots are few and rarely change. A bot registered through the API is
 * seen within `refreshMs`. A failed refresh keeps the previous list (and rejects only when there
 * is none yet, so the event is redelivered).
 */
export class StoreBotDirectory implements BotDirectory {
  private bots?: Map<number, string>;
  private loadedAt = 0;
  private loading?: Promise<Map<number, string>>;

  constructor(
    private readonly store: Store,
    private readonly refreshMs = 2000,
    private readonly now: () => number = Date.now,
  ) {}

  async webhookOf(userId: number): Promise<string | undefined> {
    return (await this.current()).get(userId);
  }

  private async current(): Promise<Map<number, string>> {
    if (this.bots && this.now() - this.loadedAt < this.refreshMs) return this.bots;
    this.loading ??= this.load().finally(() => (this.loading = undefined));
    try {
      return await this.loading;
    } catch (err) {
      if (this.bots) return this.bots;
      throw err;
    }
  }

  private async load(): Promise<Map<number, string>> {
    const bots = new Map<number, string>();
    for (let after = 0; ;) {
      const page = await this.store.bots.list(after, 1000);
      for (const b of page) bots.set(b.userId, b.webhookUrl);
      if (page.length < 1000) break;
      after = page[page.length - 1]!.userId;
    }
    this.bots = bots;
    this.loadedAt = this.now();
    return bots;
  }
}
