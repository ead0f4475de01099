import { checkId, checkPositive } from './cache.args';
import type { CallRecord, CallRegistry } from './cache.port';
import { checkCall } from './call.args';

interface Entry {
  call: CallRecord;
  expiresAt: number;
}

/**
 * In-process `CallRegistry`: calls by creator, and who is busy, with lazy expiry; every
 * `sweepEvery` opens, expired calls of any creator are dropped, so memory stays bounded by the
 * calls of the last TTL.
 */
export class MemoryCallRegistry implements CallRegistry {
  private readonly calls = new Map<number, Entry>();
  /** party → creator of the live call the party is in. */
  private readonly busy = new Map<number, number>();
  private sinceSweep = 0;

  constructor(
    private readonly guard: () => void,
    private readonly now: () => number = Date.now,
    private readonly sweepEvery = 256,
  ) {}

  async open(call: CallRecord, ttlMs: number): Promise<boolean> {
    this.guard();
    checkCall(call);
    checkPositive('ttlMs', ttlMs);
    if (++this.sinceSweep >= this.sweepEvery) this.sweep();
    if (this.liveCreatorOf(call.creatorId) !== undefined || this.liveCreatorOf(call.calleeId) !== undefined)
      return false;
    const expiresAt = this.now() + ttlMs;
    this.calls.set(call.creatorId, {
      call: { ...call, answeredAt: 0, endedAt: 0, endedBy: 0 },
      expiresAt,
    });
    this.busy.set(call.creatorId, call.creatorId);
    this.busy.set(call.calleeId, call.creatorId);
    return true;
  }

  async get(creatorId: number): Promise<CallRecord | undefined> {
    this.guard();
    checkId('creatorId', creatorId);
    const entry = this.entry(creatorId);
    return entry && { ...entry.call };
  }

  async answer(
    creatorId: number,
    channelName: string,
    at: number,
    ttlMs: number,
  ): Promise<CallRecord | undefined> {
    this.guard();
    checkId('creatorId', creatorId);
    checkPositive('ttlMs', ttlMs);
    const entry = this.entry(creatorId);
    if (!entry || entry.call.channelName !== channelName || entry.call.endedAt !== 0) return undefined;
    if (entry.call.answeredAt === 0) entry.call.answeredAt = at;
    entry.expiresAt = this.now() + ttlMs;
    return { ...entry.call };
  }

  async liveOf(userId: number): Promise<CallRecord | undefined> {
    this.guard();
    checkId('userId', userId);
    const creator = this.liveCreatorOf(userId);
    return creator === undefined ? undefined : { ...this.entry(creator)!.call };
  }

  async touch(userId: number, ttlMs: number): Promise<boolean> {
    this.guard();
    checkId('userId', userId);
    checkPositive('ttlMs', ttlMs);
    const creator = this.liveCreatorOf(userId);
    if (creator === undefined) return false;
    this.entry(creator)!.expiresAt = this.now() + ttlMs;
    return true;
  }

  async end(
    creatorId: number,
    channelName: string,
    by: number,
    at: number,
    options: { onlyUnanswered: boolean; endedTtlMs: number },
  ): Promise<CallRecord | undefined> {
    this.guard();
    checkId('creatorId', creatorId);
    checkId('by', by);
    checkPositive('endedTtlMs', options.endedTtlMs);
    const entry = this.entry(creatorId);
    if (!entry || entry.call.channelName !== channelName) return undefined;
    if (entry.call.endedAt === 0) {
      if (options.onlyUnanswered && entry.call.answeredAt !== 0) return undefined;
      entry.call.endedAt = at;
      entry.call.endedBy = by;
      entry.expiresAt = this.now() + options.endedTtlMs;
      for (const party of [entry.call.creatorId, entry.call.calleeId])
        if (this.busy.get(party) === creatorId) this.busy.delete(party);
    }
    return { ...entry.call };
  }

  /** Calls held, ended or not, until they expire (for memory checks). */
  get size(): number {
    return this.calls.size;
  }

  clear(): void {
    this.calls.clear();
    this.busy.clear();
  }

  /** Drops every expired call (`entry` does, and frees its parties). */
  private sweep(): void {
    this.sinceSweep = 0;
    for (const creatorId of [...this.calls.keys()]) this.entry(creatorId);
  }

  private entry(creatorId: number): Entry | undefined {
    const entry = this.calls.get(creatorId);
    if (entry && entry.expiresAt <= this.now()) {
      this.calls.delete(creatorId);
      for (const party of [entry.call.creatorId, entry.call.calleeId])
        if (this.busy.get(party) === creatorId) this.busy.delete(party);
      return undefined;
    }
    return entry;
  }

  /** The creator of the live (not ended, not expired) call `userId` is a party of. */
  private liveCreatorOf(userId: number): number | undefined {
    const creator = this.busy.get(userId);
    if (creator === undefined) return undefined;
    const entry = this.entry(creator);
    if (!entry || entry.call.endedAt !== 0) {
      this.busy.delete(userId);
      return undefined;
    }
    return creator;
  }
}
