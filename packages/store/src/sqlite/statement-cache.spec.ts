import Database from 'better-sqlite3';
import { CachedStatementDatabase } from './statement-cache';

describe('CachedStatementDatabase', () => {
  it('statement cache - keeps the most recently used statements prepared and drops the least recent one', () => {
    const db = new CachedStatementDatabase(new Database(':memory:'), 2);
    try {
      const a = db.prepare('SELECT 1');
      const b = db.prepare('SELECT 2');
      expect(db.prepare('SELECT 1')).toBe(a); // a hit, and now the most recent
      db.prepare('SELECT 3'); // over capacity: 'SELECT 2' is the least recently used
      expect(db.prepare('SELECT 1')).toBe(a);
      expect(db.prepare('SELECT 2')).not.toBe(b);
      expect(db.prepare('SELECT 2').all([])).toEqual([{ 2: 2 }]);
    } finally {
      db.close();
    }
  });

  it('statement cache - a statement that does not parse is a store error, not a cached entry', () => {
    const db = new CachedStatementDatabase(new Database(':memory:'), 2);
    try {
      expect(() => db.prepare('SELEC nonsense')).toThrow();
      expect(() => db.prepare('SELEC nonsense')).toThrow();
    } finally {
      db.close();
    }
  });
});
