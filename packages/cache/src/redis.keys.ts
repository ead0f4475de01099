/**
 * Every Redis key the cache uses, in one place (layout and rationale: docs/cache.md). All keys
 * start with the configured prefix, so one Redis can host several deployments or test runs.
 */
export class RedisKeys {
  constructor(readonly prefix: string) {}

  /** Hash: field `gateId|connId` → `expiresAt|clientType|loginAt[|tokenId]`. */
  route(userId: number): string {
    return `${this.prefix}route:${userId}`;
  }

  /** Sorted set: member userId, score = latest expiry of that user's routes on this gate. */
  gate(gateId: string): string {
    return `${this.prefix}gate:${gateId}`;
  }

  /** Sorted set: member gateId, score = latest expiry of a route on that gate. */
  gates(): string {
    return `${this.prefix}gates`;
  }

  /** Hash: field `role|id` → `expiresAt|<instance JSON>`, the processes' heartbeats. */
  presence(): string {
    return `${this.prefix}presence`;
  }

  /** String: the last id handed out. */
  sequence(key: string): string {
    return `${this.prefix}seq:${key}`;
  }

  /** Hash: field `sessionType|sessionId` → highest serverMsgId received. */
  receipts(userId: number): string {
    return `${this.prefix}rcpt:${userId}`;
  }

  /** Hash: field `userId|sessionType|sessionId` → `serverMsgId|at`, entries not yet flushed. */
  dirtyReceipts(): string {
    return `${this.prefix}rcpt-dirty`;
  }

  /** Hash: `n` tokens left (fractional), `at` ms of the last take; expires once it would be full. */
  bucket(key: string): string {
    return `${this.prefix}bucket:${key}`;
  }

  /** Hash: `n` failures, `until` unix ms the key is blocked to; expires with its window. */
  attempts(key: string): string {
    return `${this.prefix}attempt:${key}`;
  }

  /** Hash: a call by its creator (fields of `CallRecord`); expires unless refreshed. */
  call(creatorId: number): string {
    return `${this.prefix}call:${creatorId}`;
  }

  /** String: the creator of the live call this user is a party of. */
  callBusy(userId: number): string {
    return `${this.prefix}call-busy:${userId}`;
  }

  /** String: `p|<fingerprint>` while pending, `d|<fingerprint>|<answer>` once answered. */
  idempotency(key: string): string {
    return `${this.prefix}idem:${key}`;
  }
}
