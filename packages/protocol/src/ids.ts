// Types only: the SDK's browser bundle must not carry the `long` package for this file.
import type Long from 'long';
import { ProtocolError } from './error-codes';

/**
 * Anything a uint64 id can arrive as: a protobufjs Long (decoded bodies), a number, a decimal
 * string (JSON), or a bigint.
 */
export type IdInput = Long | number | string | bigint;

// 2^53 - 1 split into the two 32-bit halves protobufjs' Long uses.
const MAX_SAFE_HIGH = 0x1fffff;
const TWO_POW_32 = 0x1_0000_0000;
const DECIMAL = /^\d{1,20}$/;

/**
 * `Number(value)` for a protobufjs uint64/int64 field, without its cost: a Long has no `valueOf`,
 * so `Number(long)` formats it as a decimal string and parses that back (measured ≈ 1 % of the
 * standalone server's CPU). Same result as `Number(value)` (beyond 2^53 both round to nearest);
 * unlike `toId`, never throws. For internal envelope fields the cluster wrote itself.
 */
export function longToNumber(value: Long | number | null | undefined): number {
  if (typeof value === 'number') return value;
  if (value === null || value === undefined) return 0;
  return value.toNumber();
}

/**
 * Converts an id from the wire (or JSON) to the JS number mqim uses inside.
 *
 * Ids are server-assigned and never approach 2^53 (see the ADR on ids), so anything negative,
 * fractional or above `Number.MAX_SAFE_INTEGER` is a client error, reported rather than rounded.
 * 0 is accepted: proto3 sends "not set" as 0 and several fields give 0 a meaning (end_msg_id = 0
 * is "newest").
 *
 * @param field named in the error message, e.g. `"to_session_id"`.
 * @throws ProtocolError `IM_ERR_ID_OUT_OF_RANGE`
 */
export function toId(value: IdInput, field = 'id'): number {
  switch (typeof value) {
    case 'number':
      if (Number.isSafeInteger(value) && value >= 0) return value;
      break;
    case 'string':
      if (DECIMAL.test(value)) {
        const n = Number(value);
        if (Number.isSafeInteger(n)) return n;
      }
      break;
    case 'bigint':
      if (value >= 0n && value <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(value);
      break;
    case 'object':
      if (value !== null) {
        // Unsigned Longs keep the top bit in `high` as a negative int32; `>>> 0` reads it back
        // unsigned. A signed Long with a negative `high` is a negative number.
        const high = value.unsigned ? value.high >>> 0 : value.high;
        if (high >= 0 && high <= MAX_SAFE_HIGH) return high * TWO_POW_32 + (value.low >>> 0);
      }
      break;
  }
  throw new ProtocolError(
    'IM_ERR_ID_OUT_OF_RANGE',
    `${field} ${describe(value)} is not a safe id (0..2^53-1)`,
  );
}

/** {@link toId} over a repeated field. */
export function toIds(values: readonly IdInput[], field = 'id'): number[] {
  const ids = new Array<number>(values.length);
  for (let i = 0; i < values.length; i++) ids[i] = toId(values[i], field);
  return ids;
}

/** Exact decimal text of any id input, for logs and error messages (never rounds). */
export function idToString(value: IdInput): string {
  if (typeof value === 'object' && value !== null) {
    const bits = (BigInt(value.high >>> 0) << 32n) | BigInt(value.low >>> 0);
    return (value.unsigned ? bits : BigInt.asIntN(64, bits)).toString();
  }
  return String(value);
}

function describe(value: unknown): string {
  try {
    return typeof value === 'string' ? JSON.stringify(value.slice(0, 40)) : idToString(value as IdInput);
  } catch {
    return typeof value;
  }
}
