import Long from 'long';
import { ProtocolError } from './error-codes';

/**
 * An id as the unsigned Long protobufjs encodes for a uint64 field. protobufjs also accepts plain
 * numbers, but silently truncates fractions and wraps negatives; this checks first.
 *
 * @throws ProtocolError `IM_ERR_ID_OUT_OF_RANGE`
 */
export function toLong(id: number, field = 'id'): Long {
  if (!Number.isSafeInteger(id) || id < 0) {
    throw new ProtocolError('IM_ERR_ID_OUT_OF_RANGE', `${field} ${String(id)} is not a safe id (0..2^53-1)`);
  }
  return Long.fromNumber(id, true);
}
