import { checkId, checkPositive, maxPerSession } from './cache.args';
import type { DirtyBatch, ReceiptBuffer, ReceiptEntry, ReceiptKey } from './cache.port';

/**
 * In-process `ReceiptBuffer`: latest receipt per session, and the subset not yet confirmed.
 *
 * `latest` is bounded (issue 10 #12: receipts naming sessions at will grew it forever): past
 * `maxEntries`, the least recently updated flushed entries are forgotten, which only makes
 * `deliveredUpTo` read 0 for them, as after a Redis TTL. Dirty entries are never dropped.
 */
export class MemoryReceiptBuffer implements ReceiptBuffer {
  // Ordered by last update (re-set moves an entry to the end): eviction starts at the front.
  private readonly latest = new Map<string, ReceiptEntry>();
  // Insertion-ordered, and re-marking an entry keeps its place: takeDirty hands out the oldest.
  private readonly dirty = new Map<string, ReceiptEntry>();

  constructor(
    private readonly guard: () => void,
    private readonly maxEntries = 200_000,
  ) {}

  /** Sessions whose latest receipt is held (bounded by `maxEntries` plus the unflushed ones). */
  get size(): number {
    return this.latest.size;
  }

  async record(entries: readonly ReceiptEntry[]): Promise<void> {
    this.guard();
    for (const entry of maxPerSession(entries)) {
      const k = key(entry.userId, entry.sessionType, entry.sessionId);
      const seen = this.latest.get(k);
      if (seen !== undefined && seen.serverMsgId >= entry.serverMsgId) continue;
      const copy = { ...entry };
      this.latest.delete(k);
      this.latest.set(k, copy);
      this.dirty.set(k, copy);
    }
    this.evict();
  }

  private evict(): void {
    if (this.latest.size <= this.maxEntries) return;
    for (const k of this.latest.keys()) {
      if (this.latest.size <= this.maxEntries) return;
      if (!this.dirty.has(k)) this.latest.delete(k);
    }
  }

  async deliveredUpTo(userId: number, sessionType: number, sessionId: number): Promise<number> {
    this.guard();
    checkId('userId', userId);
    checkId('sessionType', sessionType);
    checkId('sessionId', sessionId);
    return this.latest.get(key(userId, sessionType, sessionId))?.serverMsgId ?? 0;
  }

  async deliveredUpToMany(keys: readonly ReceiptKey[]): Promise<number[]> {
    this.guard();
    for (const k of keys) checkKey(k);
    return keys.map((k) => this.latest.get(key(k.userId, k.sessionType, k.sessionId))?.serverMsgId ?? 0);
  }

  async takeDirty(limit: number): Promise<DirtyBatch> {
    this.guard();
    checkPositive('limit', limit);
    const entries: ReceiptEntry[] = [];
    for (const entry of this.dirty.values()) {
      if (entries.length >= limit) break;
      entries.push({ ...entry });
    }
    return { entries };
  }

  async confirm(batch: DirtyBatch): Promise<void> {
    this.guard();
    for (const taken of batch.entries) {
      const k = key(taken.userId, taken.sessionType, taken.sessionId);
      if (this.dirty.get(k)?.serverMsgId === taken.serverMsgId) this.dirty.delete(k);
    }
    this.evict();
  }

  clear(): void {
    this.latest.clear();
    this.dirty.clear();
  }
}

function key(userId: number, sessionType: number, sessionId: number): string {
  return `${userId}|${sessionType}|${sessionId}`;
}

function checkKey(k: ReceiptKey): void {
  checkId('userId', k.userId);
  checkId('sessionType', k.sessionType);
  checkId('sessionId', k.sessionId);
}
