import { toId, type IdInput } from '@mqim/protocol';
import { StoreInvalidArgumentError, StoreSchemaError } from '../store.errors';

/**
 * Reads a non-id integer column (count, time, enum). mysql2 (with `supportBigNumbers`) hands back numbers while they are
 * safe and decimal strings beyond that; such a value is a corrupted or foreign row, never
 * something to round silently.
 */
export function readInt(value: unknown, column: string): number {
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value)) return value;
  } else if (typeof value === 'bigint') {
    if (value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER)) {
      return Number(value);
    }
  } else if (typeof value === 'string' && /^-?\d+$/.test(value)) {
    const n = Number(value);
    if (Number.isSafeInteger(n)) return n;
  }
  throw new StoreSchemaError(`column ${column} holds ${String(value)}, not a safe integer`);
}

/**
 * Reads an id column through the protocol's `toId` (ADR 0002): a value beyond 2^53 - 1 throws
 * `IM_ERR_ID_OUT_OF_RANGE` instead of being rounded.
 */
export function readId(value: unknown, column: string): number {
  return toId(value as IdInput, column);
}

/** Validates an id argument: a positive safe integer. */
export function assertId(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new StoreInvalidArgumentError(`${what} must be a positive safe integer, got ${String(value)}`);
  }
  return value;
}

/** Validates a message-id-like argument where 0 has a meaning (e.g. "newest", "everything"). */
export function assertIdOrZero(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new StoreInvalidArgumentError(`${what} must be a non-negative safe integer, got ${String(value)}`);
  }
  return value;
}

/** Validates a small unsigned integer (enum values, counts) against the column's range. */
export function assertUint(value: number, max: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new StoreInvalidArgumentError(`${what} must be an integer in 0..${max}, got ${String(value)}`);
  }
  return value;
}

/** Validates a string against the column's length (in characters; MySQL counts the same way). */
export function assertText(value: string, maxChars: number, what: string): string {
  if (typeof value !== 'string') throw new StoreInvalidArgumentError(`${what} must be a string`);
  // Code points, not UTF-16 units: that is what VARCHAR(n) limits in utf8mb4.
  if (value.length > maxChars && [...value].length > maxChars) {
    throw new StoreInvalidArgumentError(`${what} is longer than ${maxChars} characters`);
  }
  return value;
}

/** Unix seconds → a time column value; anything else is a caller bug. */
export function assertSeconds(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new StoreInvalidArgumentError(`${what} must be Unix seconds (uint32), got ${String(value)}`);
  }
  return value;
}
