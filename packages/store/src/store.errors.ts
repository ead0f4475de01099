/** Base class of every error the store throws on purpose; `code` is stable, messages are not. */
export abstract class StoreError extends Error {
  abstract readonly code: string;
}

/** A user with that id or user name already exists. */
export class UserAlreadyExistsError extends StoreError {
  readonly code = 'IM_ERR_USER_EXISTS';
  override readonly name = 'UserAlreadyExistsError';
}

/**
 * The database could not be reached (connection refused or lost, pool closed, store closed,
 * SQLite file locked or unwritable). The failed call committed nothing; callers may retry it.
 */
export class StoreUnavailableError extends StoreError {
  readonly code = 'IM_ERR_STORE_UNAVAILABLE';
  override readonly name = 'StoreUnavailableError';
}

/**
 * The connection failed after a write was sent whole (the one-round-trip group commit sends its
 * COMMIT with the rest): the server may have committed it or not. Callers must not undo what a
 * commit would have made true (e.g. give a server_msg_id back); a retry finds the row or writes it.
 */
export class StoreOutcomeUnknownError extends StoreUnavailableError {
  readonly outcomeUnknown = true;
}

/** An argument the store cannot persist faithfully (unsafe id, oversized string...). */
export class StoreInvalidArgumentError extends StoreError {
  readonly code = 'IM_ERR_INVALID_ARGUMENT';
  override readonly name = 'StoreInvalidArgumentError';
}

/**
 * `messages.save` was given a server_msg_id that an owner's timeline already holds for that
 * conversation: the id counter went backwards (e.g. Redis lost it and was not re-seeded).
 * Nothing was stored; re-seed the counter from `messages.maxServerMsgId` and assign a new id.
 */
export class MessageIdConflictError extends StoreError {
  readonly code = 'IM_ERR_MSG_ID_CONFLICT';
  override readonly name = 'MessageIdConflictError';
}

/** The database does not match this store (shard count, schema, a value no column should hold). */
export class StoreSchemaError extends StoreError {
  readonly code = 'IM_ERR_STORE_SCHEMA';
  override readonly name = 'StoreSchemaError';
}
