/**
 * The backend could not be reached (or refused to serve: loading, read-only, out of memory)
 * within the configured bounds. Transient: callers must not ack what depended on it, and retry.
 */
export class CacheUnavailableError extends Error {
  readonly code = 'IM_ERR_CACHE_UNAVAILABLE';
  override readonly name = 'CacheUnavailableError';
}

/** A caller bug: an id that is not a safe integer, a gate id with `|`, a non-positive TTL... */
export class InvalidCacheArgumentError extends Error {
  readonly code = 'IM_ERR_CACHE_INVALID_ARGUMENT';
  override readonly name = 'InvalidCacheArgumentError';
}
