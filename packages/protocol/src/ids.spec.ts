import Long from 'long';
import { ProtocolError } from './error-codes';
import { idToString, toId, toIds } from './ids';
import { toLong } from './long-id';

const outOfRange = expect.objectContaining({ name: 'ProtocolError', code: 'IM_ERR_ID_OUT_OF_RANGE' });

describe('ids', () => {
  it('ids - unsigned Longs up to 2^53-1 become exact numbers', () => {
    expect(toId(Long.fromString('0', true))).toBe(0);
    expect(toId(Long.fromString('4294967297', true))).toBe(4294967297);
    expect(toId(Long.fromString('9007199254740991', true))).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('ids - Longs above 2^53-1 are rejected, never rounded', () => {
    expect(() => toId(Long.fromString('9007199254740992', true))).toThrow(outOfRange);
    expect(() => toId(Long.fromString('9007199254740993', true))).toThrow(outOfRange);
    expect(() => toId(Long.MAX_UNSIGNED_VALUE)).toThrow(outOfRange);
  });

  it('ids - the error names the field and the exact value', () => {
    expect(() => toId(Long.fromString('9007199254740993', true), 'to_session_id')).toThrow(
      'to_session_id 9007199254740993 is not a safe id',
    );
  });

  it('ids - signed Longs: negative is rejected, small positive accepted', () => {
    expect(() => toId(Long.fromNumber(-1))).toThrow(outOfRange);
    expect(toId(Long.fromNumber(42))).toBe(42);
  });

  it('ids - numbers must be non-negative safe integers', () => {
    expect(toId(10001)).toBe(10001);
    for (const bad of [-1, 1.5, NaN, Infinity, 2 ** 53]) expect(() => toId(bad)).toThrow(outOfRange);
  });

  it('ids - decimal strings are accepted, anything else is not', () => {
    expect(toId('10001')).toBe(10001);
    expect(toId('9007199254740991')).toBe(Number.MAX_SAFE_INTEGER);
    for (const bad of ['', '-1', '1e3', '0x10', ' 1', '1.0', '9007199254740993', '123456789012345678901']) {
      expect(() => toId(bad)).toThrow(ProtocolError);
    }
  });

  it('ids - bigints are range-checked', () => {
    expect(toId(9007199254740991n)).toBe(Number.MAX_SAFE_INTEGER);
    expect(() => toId(9007199254740992n)).toThrow(outOfRange);
    expect(() => toId(-1n)).toThrow(outOfRange);
  });

  it('ids - toIds converts a repeated field and fails on any bad element', () => {
    expect(toIds([Long.fromNumber(1, true), 2, '3'])).toEqual([1, 2, 3]);
    expect(() => toIds([1, Long.MAX_UNSIGNED_VALUE], 'member_id_list')).toThrow('member_id_list');
  });

  it('ids - toLong gives the unsigned Long protobufjs encodes, and refuses what it would mangle', () => {
    const l = toLong(4294967297);
    expect(l.unsigned).toBe(true);
    expect(l.toString()).toBe('4294967297');
    expect(() => toLong(-1)).toThrow(outOfRange);
    expect(() => toLong(1.5)).toThrow(outOfRange);
  });

  it('ids - idToString prints any input exactly', () => {
    expect(idToString(Long.MAX_UNSIGNED_VALUE)).toBe('18446744073709551615');
    expect(idToString(Long.fromString('9007199254740993', true))).toBe('9007199254740993');
    expect(idToString(7)).toBe('7');
  });
});
