import Database from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { CachedStatementDatabase } from '../sqlite/statement-cache';
import { MultiRowInsert } from './multi-row-insert';
import { paddedSize, statementSizes } from './statement-sizes';
import type { Db } from './store-context';

describe('MultiRowInsert', () => {
  it('multi-row insert - every batch size from 1 to 300 rows lands whole and in order through at most 30 statement shapes', async () => {
    const raw = new Database(':memory:');
    const prepared = new Set<string>();
    const database = new CachedStatementDatabase(raw, 1024);
    const db = new Kysely({
      dialect: new SqliteDialect({
        database: {
          prepare: (text) => (prepared.add(text), database.prepare(text)),
          close: () => database.close(),
        },
      }),
    }) as unknown as Db;
    try {
      await sql`create table t (batch integer, seq integer, v text, primary key (batch, seq))`.execute(db);
      const insert = new MultiRowInsert(['batch', 'seq', 'v']);
      for (let n = 1; n <= 300; n++) {
        await insert.execute(
          db,
          't',
          Array.from({ length: n }, (_, i) => [n, i, `${n}.${i}`]),
        );
      }
      const { rows } = await sql<{ n: number; count: number; ordered: number }>`
        select batch as n, count(*) as count, sum(v = batch || '.' || seq) as ordered from t group by batch`.execute(
        db,
      );
      expect(rows).toHaveLength(300);
      for (const r of rows) expect([r.count, r.ordered]).toEqual([r.n, r.n]);
      // One shape per row count would be 300 statements to compile and prepare.
      expect([...prepared].filter((s) => s.startsWith('insert')).length).toBeLessThanOrEqual(30);
    } finally {
      await db.destroy();
    }
  });

  it('statement sizes - exact up to 16, then powers of two; padding stays under the row limit', () => {
    expect(statementSizes(0)).toEqual([]);
    expect(statementSizes(16)).toEqual([16]);
    expect(statementSizes(17)).toEqual([16, 1]);
    expect(statementSizes(100)).toEqual([64, 32, 4]);
    expect(statementSizes(1000).reduce((a, b) => a + b, 0)).toBe(1000);
    expect([paddedSize(5, 100), paddedSize(17, 100), paddedSize(64, 100), paddedSize(65, 100)]).toEqual([
      5, 32, 64, 65,
    ]);
  });
});
