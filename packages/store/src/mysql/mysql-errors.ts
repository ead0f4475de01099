import { errorCode } from '../internal/sql-dialect';
import { StoreUnavailableError } from '../store.errors';

// Network and server-state failures: the statement never ran or its connection is gone.
const UNAVAILABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_CON_COUNT_ERROR',
  'ER_SERVER_SHUTDOWN',
  'ER_QUERY_INTERRUPTED',
  'ER_CONNECTION_KILLED',
]);

// Fatal too, but a configuration mistake rather than an outage: retrying will not help.
const CONFIGURATION = new Set(['ER_ACCESS_DENIED_ERROR', 'ER_DBACCESS_DENIED_ERROR', 'ER_BAD_DB_ERROR']);

/** Maps mysql2 connection-level errors to `StoreUnavailableError`; others pass through. */
export function mapMysqlError(error: unknown): unknown {
  if (error instanceof StoreUnavailableError) return error;
  const code = errorCode(error);
  if (code !== undefined && CONFIGURATION.has(code)) return error;
  const fatal = typeof error === 'object' && error !== null && (error as { fatal?: unknown }).fatal === true;
  const closed = error instanceof Error && error.message === 'Pool is closed.';
  if ((code !== undefined && UNAVAILABLE.has(code)) || fatal || closed) {
    const message = error instanceof Error ? error.message : String(error);
    return new StoreUnavailableError(`mysql: ${message}${code ? ` (${code})` : ''}`, { cause: error });
  }
  return error;
}
