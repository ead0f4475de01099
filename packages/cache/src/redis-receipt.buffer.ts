import type Redis from 'ioredis';
import { checkId, checkPositive, maxPerSession } from './cache.args';
import type { DirtyBatch, ReceiptBuffer, ReceiptEntry, ReceiptKey } from './cache.port';
import { execPipeline, guarded } from './redis.client';
import type { RedisKeys } from './redis.keys';

// Receipts per script call: keeps one script run short (Redis is single-threaded) while a large
// batch still goes out in one pipeline.
const RECORD_CHUNK = 500;

/**
 * `ReceiptBuffer` on Redis: a hash per user for `deliveredUpTo`, and one shared hash of the dirty
 * entries carrying what the flush needs (`serverMsgId|at`), which doubles as the version `confirm`
 * compares against.
 */
export class RedisReceiptBuffer implements ReceiptBuffer {
  private readonly ttlArg: string;

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    ttlMs: number,
  ) {
    this.ttlArg = String(ttlMs);
  }

  async record(entries: readonly ReceiptEntry[]): Promise<void> {
    const best = maxPerSession(entries);
    if (best.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (let i = 0; i < best.length; i += RECORD_CHUNK) {
      const chunk = best.slice(i, i + RECORD_CHUNK);
      const keys = [this.keys.dirtyReceipts(), ...chunk.map((e) => this.keys.receipts(e.userId))];
      const args = [this.ttlArg];
      for (const e of chunk) {
        args.push(`${e.sessionType}|${e.sessionId}`, String(e.serverMsgId), dirtyField(e), dirtyValue(e));
      }
      pipeline.mqimReceiptRecord(keys.length, ...keys, ...args);
    }
    await execPipeline(pipeline);
  }

  async deliveredUpTo(userId: number, sessionType: number, sessionId: number): Promise<number> {
    checkId('userId', userId);
    checkId('sessionType', sessionType);
    checkId('sessionId', sessionId);
    const value = await guarded(() =>
      this.redis.hget(this.keys.receipts(userId), `${sessionType}|${sessionId}`),
    );
    return value === null ? 0 : Number(value);
  }

  async deliveredUpToMany(keys: readonly ReceiptKey[]): Promise<number[]> {
    if (keys.length === 0) return [];
    for (const k of keys) {
      checkId('userId', k.userId);
      checkId('sessionType', k.sessionType);
      checkId('sessionId', k.sessionId);
    }
    // One script call per chunk, in one pipeline: a 5,000-member push check is 10 commands.
    const pipeline = this.redis.pipeline();
    for (let i = 0; i < keys.length; i += RECORD_CHUNK) {
      const chunk = keys.slice(i, i + RECORD_CHUNK);
      pipeline.mqimHgetMany(
        chunk.length,
        ...chunk.map((k) => this.keys.receipts(k.userId)),
        ...chunk.map((k) => `${k.sessionType}|${k.sessionId}`),
      );
    }
    const values = ((await execPipeline(pipeline)) as (string | null)[][]).flat();
    return values.map((v) => (v === null || v === undefined ? 0 : Number(v)));
  }

  async takeDirty(limit: number): Promise<DirtyBatch> {
    checkPositive('limit', limit);
    // HRANDFIELD with a positive count returns distinct fields, O(limit): no cursor to keep, and
    // confirmed entries leave the hash, so repeated takes drain it.
    const reply = await guarded(() => this.redis.hrandfield(this.keys.dirtyReceipts(), limit, 'WITHVALUES'));
    // Flat [field, value, ...] here; flattened anyway in case the client hands out pairs (RESP3).
    const flat = (Array.isArray(reply) ? reply.flat() : []) as string[];
    const entries: ReceiptEntry[] = [];
    for (let i = 0; i < flat.length; i += 2) {
      const [userId, sessionType, sessionId] = flat[i].split('|').map(Number);
      const [serverMsgId, at] = flat[i + 1].split('|').map(Number);
      entries.push({ userId, sessionType, sessionId, serverMsgId, at });
    }
    return { entries };
  }

  async confirm(batch: DirtyBatch): Promise<void> {
    if (batch.entries.length === 0) return;
    const args: string[] = [];
    for (const e of batch.entries) args.push(dirtyField(e), dirtyValue(e));
    await guarded(() => this.redis.mqimReceiptConfirm(this.keys.dirtyReceipts(), ...args));
  }
}

function dirtyField(e: ReceiptEntry): string {
  return `${e.userId}|${e.sessionType}|${e.sessionId}`;
}

// Built the same way by record and confirm, so it also serves as the entry's version.
function dirtyValue(e: ReceiptEntry): string {
  return `${e.serverMsgId}|${e.at}`;
}
