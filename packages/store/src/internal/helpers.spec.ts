import { chunkRows } from './chunk';
import { assertText, readId, readInt } from './ids';
import { StoreInvalidArgumentError, StoreSchemaError } from '../store.errors';
import { renderMigration } from '../migration/sql-migration.provider';

describe('store helpers', () => {
  it('readInt - accepts safe integers in any driver form, never rounds', () => {
    expect(readInt(42, 'x')).toBe(42);
    expect(readInt('9007199254740991', 'x')).toBe(Number.MAX_SAFE_INTEGER);
    expect(readInt(7n, 'x')).toBe(7);
    expect(() => readInt('9007199254740993', 'x')).toThrow(StoreSchemaError);
    expect(() => readInt(2 ** 53, 'x')).toThrow(StoreSchemaError);
    expect(() => readInt(1.5, 'x')).toThrow(StoreSchemaError);
    expect(() => readInt(null, 'x')).toThrow(StoreSchemaError);
  });

  it('readId - goes through the protocol toId: unsafe ids fail with IM_ERR_ID_OUT_OF_RANGE', () => {
    expect(readId('9007199254740991', 'user_id')).toBe(Number.MAX_SAFE_INTEGER);
    expect(readId(12n, 'user_id')).toBe(12);
    expect(() => readId('9007199254740993', 'user_id')).toThrow(
      expect.objectContaining({ code: 'IM_ERR_ID_OUT_OF_RANGE' }),
    );
  });

  it('assertText - counts characters like VARCHAR does', () => {
    expect(assertText('😀😀', 2, 'x')).toBe('😀😀');
    expect(() => assertText('😀😀😀', 2, 'x')).toThrow(StoreInvalidArgumentError);
  });

  it('chunkRows - splits by parameter count and by bytes', () => {
    const rows = Array.from({ length: 10 }, (_, i) => i);
    expect(chunkRows(rows, { maxParams: 12, columns: 3 }).map((c) => c.length)).toEqual([4, 4, 2]);
    expect(
      chunkRows(rows, { maxParams: 1000, columns: 1, maxBytes: 25 }, () => 10).map((c) => c.length),
    ).toEqual([2, 2, 2, 2, 2]);
    expect(chunkRows([1], { maxParams: 10, columns: 1, maxBytes: 5 }, () => 100)).toEqual([[1]]);
    expect(chunkRows([], { maxParams: 10, columns: 1 })).toEqual([]);
  });

  it('renderMigration - repeats {shard} statements per shard and drops comment lines', () => {
    const text = [
      '-- a comment; with a semicolon',
      "INSERT INTO meta VALUES ('n', '{shards}');",
      'CREATE TABLE t_{shard} (',
      '  -- inner comment',
      '  id INT',
      ');',
      'CREATE INDEX i ON x (y);',
    ].join('\n');
    expect(renderMigration(text, 2)).toEqual([
      "INSERT INTO meta VALUES ('n', '2')",
      'CREATE TABLE t_0 (\n  id INT\n)',
      'CREATE TABLE t_1 (\n  id INT\n)',
      'CREATE INDEX i ON x (y)',
    ]);
  });
});
