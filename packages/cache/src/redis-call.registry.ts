import type Redis from 'ioredis';
import { checkId, checkPositive } from './cache.args';
import type { CallRecord, CallRegistry } from './cache.port';
import { checkCall } from './call.args';
import { guarded } from './redis.client';
import type { RedisKeys } from './redis.keys';

const NUMERIC = [
  'creatorId',
  'calleeId',
  'callType',
  'startedAt',
  'answeredAt',
  'endedAt',
  'endedBy',
] as const;

/**
 * `CallRegistry` on Redis: one hash per call (`call:<creator>`) and a busy key per party
 * (`call-busy:<user>` → creator), changed together by scripts so that a party is busy exactly as
 * long as its call is live. Numbers are written as decimal strings, never through Lua numbers.
 */
export class RedisCallRegistry implements CallRegistry {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  async open(call: CallRecord, ttlMs: number): Promise<boolean> {
    checkCall(call);
    checkPositive('ttlMs', ttlMs);
    const fields = {
      creatorId: call.creatorId,
      calleeId: call.calleeId,
      callType: call.callType,
      channelName: call.channelName,
      channelToken: call.channelToken,
      startedAt: call.startedAt,
      answeredAt: 0,
      endedAt: 0,
      endedBy: 0,
    };
    const flat = Object.entries(fields).flatMap(([k, v]) => [k, String(v)]);
    const opened = await guarded(() =>
      this.redis.mqimCallOpen(
        this.keys.call(call.creatorId),
        this.keys.callBusy(call.creatorId),
        this.keys.callBusy(call.calleeId),
        String(call.creatorId),
        String(ttlMs),
        ...flat,
      ),
    );
    return Number(opened) === 1;
  }

  async get(creatorId: number): Promise<CallRecord | undefined> {
    checkId('creatorId', creatorId);
    const all = await guarded(() => this.redis.hgetall(this.keys.call(creatorId)));
    return toCall(all);
  }

  async answer(
    creatorId: number,
    channelName: string,
    at: number,
    ttlMs: number,
  ): Promise<CallRecord | undefined> {
    checkId('creatorId', creatorId);
    checkPositive('ttlMs', ttlMs);
    const known = await this.get(creatorId);
    if (!known) return undefined;
    const flat = await guarded(() =>
      this.redis.mqimCallAnswer(
        this.keys.call(creatorId),
        this.keys.callBusy(creatorId),
        this.keys.callBusy(known.calleeId),
        channelName,
        String(at),
        String(ttlMs),
      ),
    );
    return flat ? toCall(pairs(flat)) : undefined;
  }

  async liveOf(userId: number): Promise<CallRecord | undefined> {
    checkId('userId', userId);
    const creator = await guarded(() => this.redis.get(this.keys.callBusy(userId)));
    if (creator === null) return undefined;
    const call = await this.get(Number(creator));
    return call && call.endedAt === 0 ? call : undefined;
  }

  async touch(userId: number, ttlMs: number): Promise<boolean> {
    checkPositive('ttlMs', ttlMs);
    const call = await this.liveOf(userId);
    if (!call) return false;
    await guarded(() =>
      this.redis
        .multi()
        .pexpire(this.keys.call(call.creatorId), ttlMs)
        .pexpire(this.keys.callBusy(call.creatorId), ttlMs)
        .pexpire(this.keys.callBusy(call.calleeId), ttlMs)
        .exec(),
    );
    return true;
  }

  async end(
    creatorId: number,
    channelName: string,
    by: number,
    at: number,
    options: { onlyUnanswered: boolean; endedTtlMs: number },
  ): Promise<CallRecord | undefined> {
    checkId('creatorId', creatorId);
    checkId('by', by);
    checkPositive('endedTtlMs', options.endedTtlMs);
    const known = await this.get(creatorId);
    if (!known) return undefined;
    const flat = await guarded(() =>
      this.redis.mqimCallEnd(
        this.keys.call(creatorId),
        this.keys.callBusy(creatorId),
        this.keys.callBusy(known.calleeId),
        channelName,
        String(by),
        String(at),
        options.onlyUnanswered ? '1' : '0',
        String(options.endedTtlMs),
        String(creatorId),
      ),
    );
    return flat ? toCall(pairs(flat)) : undefined;
  }
}

function pairs(flat: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]!] = flat[i + 1]!;
  return out;
}

function toCall(all: Record<string, string>): CallRecord | undefined {
  if (all.channelName === undefined) return undefined;
  const call = { channelName: all.channelName, channelToken: all.channelToken ?? '' } as CallRecord;
  for (const k of NUMERIC) call[k] = Number(all[k] ?? 0);
  return call;
}
