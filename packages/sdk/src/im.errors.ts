/**
 * Stable codes of the errors the SDK raises. Match on `code`, never on `message`.
 *
 * - `IM_ERR_TIMEOUT`: no answer in time; the request may or may not have taken effect (a send can
 *   be retried safely with the same clientMsgId).
 * - `IM_ERR_LOGIN_FAILED`: the server refused the credentials (2002 / 2003); the connection stays
 *   open for another attempt.
 * - `IM_ERR_NOT_CONNECTED`: no connection (never connected, lost, or reconnecting).
 * - `IM_ERR_NOT_LOGGED_IN`: connected but not logged in; the server would drop the connection.
 * - `IM_ERR_SEND_REFUSED`: the server acked a send with a non-OK res_code.
 * - `IM_ERR_REQUEST_FAILED`: the server refused another request (an error notify, or a group
 *   result_code other than 200).
 * - `IM_ERR_CONNECTION_LOST`: the connection closed while the request was in flight.
 * - `IM_ERR_CONNECT_FAILED`: the transport could not be opened.
 * - `IM_ERR_CLOSED`: `close()` was called.
 * - `IM_ERR_INVALID_ARGUMENT`: the caller passed something the SDK cannot encode.
 * - `IM_ERR_PROTOCOL`: the server sent something the SDK cannot read.
 */
export type ImClientErrorCode =
  | 'IM_ERR_TIMEOUT'
  | 'IM_ERR_LOGIN_FAILED'
  | 'IM_ERR_NOT_CONNECTED'
  | 'IM_ERR_NOT_LOGGED_IN'
  | 'IM_ERR_SEND_REFUSED'
  | 'IM_ERR_REQUEST_FAILED'
  | 'IM_ERR_CONNECTION_LOST'
  | 'IM_ERR_CONNECT_FAILED'
  | 'IM_ERR_CLOSED'
  | 'IM_ERR_INVALID_ARGUMENT'
  | 'IM_ERR_PROTOCOL';

/** What the server said about a refused request (`MqimErrorNotify`, command 0x0802). */
export interface ServerErrorDetail {
  /** mqim's numeric code (≥ 10000), e.g. 10201. */
  errorCode: number;
  /** Stable string code, e.g. `"IM_ERR_FORBIDDEN"`. */
  errorName: string;
  text: string;
  /** Command and seq of the request it refers to; 0 when it refers to none. */
  requestCmd: number;
  requestSeq: number;
}

/** Base class of every error the SDK raises. */
export class ImClientError extends Error {
  override readonly name: string = 'ImClientError';

  constructor(
    readonly code: ImClientErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** `IM_ERR_TIMEOUT`: the request's answer did not arrive within `timeoutMs`. */
export class ImTimeoutError extends ImClientError {
  override readonly name: string = 'ImTimeoutError';

  constructor(
    readonly command: number,
    readonly seq: number,
    readonly timeoutMs: number,
  ) {
    super('IM_ERR_TIMEOUT', `no answer to command 0x${hex(command)} (seq ${seq}) within ${timeoutMs} ms`);
  }
}

/** `IM_ERR_LOGIN_FAILED`: `resultCode` is the CIM code (2002 bad token, 2003 bad user or password). */
export class ImLoginFailedError extends ImClientError {
  override readonly name: string = 'ImLoginFailedError';

  constructor(
    readonly resultCode: number,
    readonly resultString: string,
  ) {
    super('IM_ERR_LOGIN_FAILED', `login refused: ${resultCode}${resultString ? ` ${resultString}` : ''}`);
  }
}

/**
 * `IM_ERR_SEND_REFUSED`: the message was not stored. `detail` is the server's explanation when it
 * sent one next to the non-OK ack (mqim does; CoffeeChat servers do not).
 */
export class ImSendRefusedError extends ImClientError {
  override readonly name: string = 'ImSendRefusedError';

  constructor(
    readonly clientMsgId: string,
    /** The ack's res_code; undefined when the error notify arrived before (or without) the ack. */
    readonly resCode: number | undefined,
    readonly detail: ServerErrorDetail | undefined,
  ) {
    super('IM_ERR_SEND_REFUSED', `send ${clientMsgId} refused${describeDetail(detail)}`);
  }
}

/** `IM_ERR_REQUEST_FAILED`: a request other than a send was refused. */
export class ImRequestFailedError extends ImClientError {
  override readonly name: string = 'ImRequestFailedError';

  constructor(
    readonly command: number,
    /** The response's result_code (group calls: 200 = success), when the refusal came as a response. */
    readonly resultCode: number | undefined,
    readonly detail: ServerErrorDetail | undefined,
  ) {
    super(
      'IM_ERR_REQUEST_FAILED',
      `command 0x${hex(command)} refused${resultCode !== undefined ? ` with result ${resultCode}` : ''}${describeDetail(detail)}`,
    );
  }
}

function hex(cmd: number): string {
  return cmd.toString(16).padStart(4, '0');
}

function describeDetail(detail: ServerErrorDetail | undefined): string {
  return detail === undefined ? '' : `: ${detail.errorName} ${detail.text}`.trimEnd();
}
