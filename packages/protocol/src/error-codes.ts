/**
 * Result codes carried inside CIM bodies (`CIM.Def.CIMErrorCode`): the numbers CoffeeChat clients
 * understand, e.g. in `CIMAuthTokenRsp.result_code`. Group responses use plain uint32 result codes
 * with the same meaning (200 = success).
 */
export const CimErrorCode = {
  UNKNOWN: 0,
  SUCCESS: 200,
  INTERNAL_ERROR: 201,
  LOGIN_DB_VALIDATE_FAILED: 2000,
  LOGIN_VERSION_TOO_OLD: 2001,
  LOGIN_INVALID_USER_TOKEN: 2002,
  LOGIN_INVALID_USER_OR_PWD: 2003,
  USER_ALREADY_EXIST: 9000,
  USER_INVALID_PARAMETER: 9001,
  USER_NOT_EXIST: 9002,
} as const;
export type CimErrorCode = (typeof CimErrorCode)[keyof typeof CimErrorCode];

/**
 * mqim's own error codes: a stable string for logs and code, and a number (≥ 10000, so it can never
 * be mistaken for a CIMErrorCode) for `MqimErrorNotify.error_code` on the wire. Numbers are grouped
 * by who is at fault: 100xx framing/encoding, 101xx connection state, 102xx the request, 103xx the
 * server. Never renumber; add at the end of a group.
 */
export const ImErrorNumber = {
  /** Fallback for a code this table does not know. */
  IM_ERR_UNKNOWN: 10000,

  /** Frame length outside 16..max, or a WS message whose length field disagrees with its size. */
  IM_ERR_FRAME_LENGTH: 10001,
  /** A WebSocket text message: the protocol is binary only. */
  IM_ERR_WS_TEXT_MESSAGE: 10002,
  /** The body is not valid protobuf for the command's message type. */
  IM_ERR_BAD_BODY: 10003,
  /** A command id mqim does not know. */
  IM_ERR_UNKNOWN_COMMAND: 10004,
  /** An id that is negative, not an integer, or above 2^53 - 1. */
  IM_ERR_ID_OUT_OF_RANGE: 10005,

  /** A command that needs a session arrived before login. */
  IM_ERR_NOT_LOGGED_IN: 10100,
  /** No successful login within the login timeout. */
  IM_ERR_LOGIN_TIMEOUT: 10101,
  /** No heartbeat within the heartbeat timeout. */
  IM_ERR_HEARTBEAT_TIMEOUT: 10102,
  // 10103 (IM_ERR_KICKED_OUT) is retired, never to be reused: it was never sent, because the
  // KICK_OUT notice (0x0801) is how a client learns it was closed on purpose, and says why.
  /** The connection sends faster than its limit. */
  IM_ERR_RATE_LIMITED: 10104,
  /** The connection cannot keep up with what the server writes to it. */
  IM_ERR_SLOW_CONSUMER: 10105,
  /** A login attempt was refused (the CIM response carries 2002/2003 for the client). */
  IM_ERR_LOGIN_FAILED: 10106,
  /**
   * Too many failed logins for this user or connection: the attempt was refused unchecked. The
   * login response carries this number as its result code; retry after the time it names.
   */
  IM_ERR_LOGIN_THROTTLED: 10107,
  /**
   * The connection has too many queries in flight, has used its reply-byte budget, or has not
   * read earlier replies: the query was not run. Retry after reading what was sent.
   */
  IM_ERR_QUERY_BUDGET: 10108,

  /** A field value the server refuses (a message to oneself, an empty group name, ...). */
  IM_ERR_INVALID_ARGUMENT: 10200,
  /** Not allowed for this user (sender mismatch, not a group member, not the owner, ...). */
  IM_ERR_FORBIDDEN: 10201,
  /** The user, group or message does not exist. */
  IM_ERR_NOT_FOUND: 10202,
  /** A field (msg_data, a list) is larger than the server accepts. */
  IM_ERR_PAYLOAD_TOO_LARGE: 10203,
  /**
   * A send reuses a client_msg_id the sender already used for a different conversation or
   * content: it is not a retry, so nothing is stored or delivered. Pick a fresh client_msg_id.
   */
  IM_ERR_DUPLICATE_MISMATCH: 10204,
  /** Too many requests of this kind from this user (e.g. group creations); retry later. */
  IM_ERR_USER_RATE_LIMITED: 10205,
  /**
   * The business server's before-send hook refused the message; the text starts with the reason
   * code the hook gave (`<code>: <reason>`). Nothing was stored.
   */
  IM_ERR_REFUSED_BY_HOOK: 10206,
  /**
   * A group send refused because the group is muted (mute-all; the owner and admins may still
   * send) or the sender is muted in it. Nothing was stored.
   */
  IM_ERR_GROUP_MUTED: 10220,
  /** A recall of a message older than the recall window (`MQIM_RECALL_WINDOW_SEC`); nothing changed. */
  IM_ERR_RECALL_WINDOW_PASSED: 10210,

  // 10215-10219: contacts, presence and typing (issue 12).
  /** The recipient blocked the sender: the message (or friend request, typing, group invitation) is refused, nothing stored. */
  IM_ERR_BLOCKED: 10215,
  /** Typing notices faster than the per-connection allowance: this one was dropped. */
  IM_ERR_TYPING_RATE_LIMITED: 10216,
  /** Accept/decline of a friend request that does not exist (or no longer does). */
  IM_ERR_NO_FRIEND_REQUEST: 10217,
  /** The user has as many contacts or pending requests as the server allows. */
  IM_ERR_CONTACT_LIMIT: 10218,
  // ---- 10225..10229: business-server platform (issue 13) ----
  /**
   * An HTTP API request reused an `Idempotency-Key` whose first request is still running: nothing
   * was done; retry later with the same key to get the first request's answer.
   */
  IM_ERR_IDEMPOTENCY_IN_PROGRESS: 10225,
  /** A scheduled message can no longer be cancelled or rescheduled: it is being sent or was sent. */
  IM_ERR_SCHEDULE_TOO_LATE: 10226,

  /** A bug or an unexpected failure on the server. */
  IM_ERR_INTERNAL: 10300,
  /** A backend (bus, database, cache) is unreachable; retrying later may succeed. */
  IM_ERR_UNAVAILABLE: 10301,
  /** The server did not answer in time; the request may or may not have taken effect. */
  IM_ERR_TIMEOUT: 10302,
  /** The server is at capacity and did not take the request; retry after a short backoff. */
  IM_ERR_BUSY: 10303,
} as const;

export type ImErrorCode = keyof typeof ImErrorNumber;

/**
 * The codes that mean the *client* is at fault: the request was malformed or is refused for what
 * it asks (docs/adr/0008). Such a request is answered (or its connection closed) and never
 * retried: it would fail the same way. Every other failure — a code outside this set, another
 * package's code (the store or bus down), or no code at all (a TypeError or RangeError from our own
 * code: a bug) — is the server's: retried, and dead-lettered loudly when it keeps failing.
 */
export const CLIENT_FAULTS: ReadonlySet<ImErrorCode> = new Set<ImErrorCode>([
  'IM_ERR_FRAME_LENGTH',
  'IM_ERR_WS_TEXT_MESSAGE',
  'IM_ERR_BAD_BODY',
  'IM_ERR_UNKNOWN_COMMAND',
  'IM_ERR_ID_OUT_OF_RANGE',
  'IM_ERR_INVALID_ARGUMENT',
  'IM_ERR_FORBIDDEN',
  'IM_ERR_NOT_FOUND',
  'IM_ERR_PAYLOAD_TOO_LARGE',
  'IM_ERR_DUPLICATE_MISMATCH',
  'IM_ERR_USER_RATE_LIMITED',
  'IM_ERR_REFUSED_BY_HOOK',
  'IM_ERR_GROUP_MUTED',
  'IM_ERR_RECALL_WINDOW_PASSED',
  'IM_ERR_BLOCKED',
  'IM_ERR_TYPING_RATE_LIMITED',
  'IM_ERR_NO_FRIEND_REQUEST',
  'IM_ERR_CONTACT_LIMIT',
  'IM_ERR_IDEMPOTENCY_IN_PROGRESS',
  'IM_ERR_SCHEDULE_TOO_LATE',
]);

/**
 * Whether `err` is the client's fault (see {@link CLIENT_FAULTS}): decided by its code alone, never
 * by its class, so a bug that throws a TypeError is not mistaken for bad input. The store's
 * refusals (`StoreInvalidArgumentError`, code IM_ERR_INVALID_ARGUMENT) count as the client's: the
 * value came from the request.
 */
export function isClientFault(err: unknown): boolean {
  const code = codeOf(err);
  return code !== undefined && CLIENT_FAULTS.has(code as ImErrorCode);
}

const knownCodes = new Map<string, number>(Object.entries(ImErrorNumber));

/** The wire number of an `IM_ERR_*` code; `IM_ERR_UNKNOWN`'s number for codes not in the table. */
export function errorNumberOf(code: string): number {
  return knownCodes.get(code) ?? ImErrorNumber.IM_ERR_UNKNOWN;
}

/** Base class of mqim's errors: `code` is stable, `message` is for humans. */
export class MqimError extends Error {
  override readonly name: string = 'MqimError';

  constructor(
    readonly code: ImErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** The number sent in `MqimErrorNotify.error_code`. */
  get errorNumber(): number {
    return ImErrorNumber[this.code];
  }
}

/** A client broke the protocol: bad body, unknown command, an id out of range. */
export class ProtocolError extends MqimError {
  override readonly name: string = 'ProtocolError';
}

/**
 * The byte stream itself is broken (a length out of range, a text WS message): the connection
 * cannot be resynchronised and must be closed.
 */
export class FrameError extends ProtocolError {
  override readonly name: string = 'FrameError';
}

/** Fields of a `CIM.Ext.MqimErrorNotify` (command 0x0802), in protobufjs' camelCase. */
export interface ErrorNotifyFields {
  errorCode: number;
  errorName: string;
  text: string;
  requestCmd: number;
  requestSeq: number;
}

/**
 * Describes `err` for the client. Errors whose `code` is in {@link ImErrorNumber} keep their
 * message, since those messages are written for clients. Another package's `IM_ERR_*` code becomes
 * `IM_ERR_UNKNOWN` (name and number: only codes of this table reach the wire) and anything without
 * a code `IM_ERR_INTERNAL`, both without text, so internals (hosts, SQL, stack traces) never reach
 * a client.
 */
export function toErrorNotify(err: unknown, request?: { cmd: number; seq: number }): ErrorNotifyFields {
  const code = codeOf(err);
  const known = code !== undefined && knownCodes.has(code);
  const name: ImErrorCode = known
    ? (code as ImErrorCode)
    : code === undefined
      ? 'IM_ERR_INTERNAL'
      : 'IM_ERR_UNKNOWN';
  return {
    errorCode: ImErrorNumber[name],
    errorName: name,
    text: known && err instanceof Error ? err.message : 'internal error',
    requestCmd: request?.cmd ?? 0,
    requestSeq: request?.seq ?? 0,
  };
}

function codeOf(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined;
  const code = (err as { code: unknown }).code;
  return typeof code === 'string' && code.startsWith('IM_ERR_') ? code : undefined;
}
