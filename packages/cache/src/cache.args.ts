import { InvalidCacheArgumentError } from './cache.errors';
import type { ReceiptEntry, Route } from './cache.port';

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
}

export function checkReceipt(entry: ReceiptEntry): void {
  checkId('userId', entry.userId);
  checkId('sessionType', entry.sessionType);
  checkId('sessionId', entry.sessionId);
  checkId('serverMsgId', entry.serverMsgId);
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
