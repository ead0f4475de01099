import { checkId, checkPositive, maxPerSession } from './cache.args';
import type { DirtyBatch, ReceiptBuffer, ReceiptEntry } from './cache.port';

/** In-process `ReceiptBuffer`: latest receipt per session, and the subset not yet confirmed. */
export class MemoryReceiptBuffer implements ReceiptBuffer {
  private readonly latest = new Map<string, ReceiptEntry>();
  // Insertion-ordered, and re-marking an entry keeps its place: takeDirty hands out the oldest.
  private readonly dirty = new Map<string, ReceiptEntry>();

  constructor(private readonly guard: () => void) {}

  async record(entries: readonly ReceiptEntry[]): Promise<void> {
    this.guard();
    for (const entry of maxPerSession(entries)) {
      const k = key(entry.userId, entry.sessionType, entry.sessionId);
      const seen = this.latest.get(k);
      if (seen !== undefined && seen.serverMsgId >= entry.serverMsgId) continue;
      const copy = { ...entry };
      this.latest.set(k, copy);
      this.dirty.set(k, copy);
    }
  }

  async deliveredUpTo(userId: number, sessionType: number, sessionId: number): Promise<number> {
    this.guard();
    checkId('userId', userId);
    checkId('sessionType', sessionType);
    checkId('sessionId', sessionId);
    return this.latest.get(key(userId, sessionType, sessionId))?.serverMsgId ?? 0;
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
  }

  clear(): void {
    this.latest.clear();
    this.dirty.clear();
  }
}

function key(userId: number, sessionType: number, sessionId: number): string {
  return `${userId}|${sessionType}|${sessionId}`;
}
