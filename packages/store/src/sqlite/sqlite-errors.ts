import { errorCode } from '../internal/sql-dialect';
import { StoreUnavailableError } from '../store.errors';

// Result codes meaning "the file cannot be used right now" (locked by another process beyond
// the busy timeout, disk full or failing, opened read-only) rather than "this statement is wrong".
const UNAVAILABLE = [
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  'SQLITE_IOERR',
  'SQLITE_FULL',
  'SQLITE_CANTOPEN',
  'SQLITE_READONLY',
];

/** Maps better-sqlite3 errors to `StoreUnavailableError` where retrying later may succeed. */
export function mapSqliteError(error: unknown): unknown {
  const code = errorCode(error);
  if (code !== undefined && UNAVAILABLE.some((prefix) => code === prefix || code.startsWith(`${prefix}_`))) {
    return new StoreUnavailableError(`sqlite: ${(error as Error).message} (${code})`, { cause: error });
  }
  if (error instanceof TypeError && /database connection is not open/i.test(error.message)) {
    return new StoreUnavailableError('sqlite: the store is closed', { cause: error });
  }
  return error;
}
