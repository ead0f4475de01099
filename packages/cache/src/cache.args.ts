import { InvalidCacheArgumentError } from './cache.errors';
import type { AttemptPolicy, InstanceInfo, RatePolicy, ReceiptEntry, Route } from './cache.port';

// Shared by both implementations so that they reject exactly the same inputs.

export function checkId(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new InvalidCacheArgumentError(`${name} must be a non-negative safe integer, got ${value}`);
  }
}

export function checkPositive(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new InvalidCacheArgumentError(`${name} must be a positive safe integer, got ${value}`);
  }
}

/** `|` separates gate and connection ids in the stored field name (see docs/cache.md). */
export function checkGateId(gateId: string): void {
  if (gateId === '' || gateId.includes('|')) {
    throw new InvalidCacheArgumentError(
      `gateId must be non-empty and contain no '|', got ${JSON.stringify(gateId)}`,
    );
  }
}

export function checkRoute(route: Route): void {
  checkId('userId', route.userId);
  checkGateId(route.gateId);
  if (route.connId === '') throw new InvalidCacheArgumentError('connId must be non-empty');
  checkId('clientType', route.clientType);
  checkId('loginAt', route.loginAt);
  // Stored after a `|` in the route value: the charset keeps it one field.
  if (route.tokenId !== undefined && !/^[0-9A-Za-z_-]{1,64}$/.test(route.tokenId))
    throw new InvalidCacheArgumentError('tokenId must be 1..64 of [0-9A-Za-z_-]');
}

export function checkReceipt(entry: ReceiptEntry): void {
  // Positive, as the store requires: an entry the flush could never write must not get in.
  checkPositive('userId', entry.userId);
  checkId('sessionType', entry.sessionType);
  checkPositive('sessionId', entry.sessionId);
  checkPositive('serverMsgId', entry.serverMsgId);
  checkId('at', entry.at);
}

export function checkSeed(key: string, seed: number): void {
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new InvalidCacheArgumentError(`seed for ${key} must be a non-negative safe integer, got ${seed}`);
  }
}

/** Keeps, per (user, session), the entry with the highest serverMsgId (first one on ties). */
export function maxPerSession(entries: readonly ReceiptEntry[]): ReceiptEntry[] {
  const best = new Map<string, ReceiptEntry>();
  for (const e of entries) {
    checkReceipt(e);
    const k = `${e.userId}|${e.sessionType}|${e.sessionId}`;
    const seen = best.get(k);
    if (seen === undefined || e.serverMsgId > seen.serverMsgId) best.set(k, e);
  }
  return [...best.values()];
}

export function checkAttemptKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0 || key.length > 256) {
    throw new InvalidCacheArgumentError('key must be a string of 1..256 characters');
  }
}

export function checkAttemptPolicy(policy: AttemptPolicy): void {
  checkId('freeFailures', policy.freeFailures);
  checkPositive('baseBlockMs', policy.baseBlockMs);
  checkPositive('maxBlockMs', policy.maxBlockMs);
  checkPositive('windowMs', policy.windowMs);
}

/** The block imposed by failure number `n` (see AttemptThrottle). */
export function blockAfter(n: number, policy: AttemptPolicy): number {
  if (n <= policy.freeFailures) return 0;
  // 2^40 already exceeds any sane maxBlockMs; capping the exponent keeps the product finite.
  const doubled = policy.baseBlockMs * 2 ** Math.min(n - policy.freeFailures - 1, 40);
  return Math.min(doubled, policy.maxBlockMs);
}

export function checkInstance(info: InstanceInfo): void {
  for (const [name, value] of [
    ['role', info.role],
    ['id', info.id],
  ] as const) {
    if (typeof value !== 'string' || value === '' || value.includes('|') || value.length > 128)
      throw new InvalidCacheArgumentError(`instance ${name} must be 1..128 characters without '|'`);
  }
  checkId('pid', info.pid);
  checkId('startedAt', info.startedAt);
  if (info.connections !== undefined) checkId('connections', info.connections);
  if (info.users !== undefined) checkId('users', info.users);
}

export function checkPageLimit(limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > 10_000)
    throw new InvalidCacheArgumentError(`limit must be an integer in 1..10000, got ${limit}`);
}

export function checkTake(key: string, want: number, policy: RatePolicy): void {
  checkAttemptKey(key);
  checkPositive('want', want);
  if (!(Number.isFinite(policy.perSecond) && policy.perSecond > 0))
    throw new InvalidCacheArgumentError(`perSecond must be a positive number, got ${policy.perSecond}`);
  checkPositive('burst', policy.burst);
}

export function checkIdempotency(key: string, fingerprint: string, ttlMs: number): void {
  if (key.length < 1 || key.length > 256)
    throw new InvalidCacheArgumentError('idempotency key must be 1..256 characters');
  if (fingerprint.length < 1 || fingerprint.length > 128 || fingerprint.includes('|'))
    throw new InvalidCacheArgumentError("fingerprint must be 1..128 characters without '|'");
  checkPositive('ttlMs', ttlMs);
}
