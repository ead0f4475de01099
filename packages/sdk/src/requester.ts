import type { BodyInput, BodyOf, CommandId } from '@mqim/protocol/client';
import type { Response } from './connection';
import { ImClientError } from './im.errors';
import type { RequestOptions } from './im.types';

/** The seam between the client and the modules that encode its plain request/response calls. */
export interface Requester {
  /**
   * Sends `cmd` as the logged-in user (`build` gets their id) and resolves with the decoded
   * `responseCmd` that echoes its seq.
   *
   * @throws ImClientError `IM_ERR_NOT_CONNECTED` / `IM_ERR_NOT_LOGGED_IN` before sending anything,
   * then `IM_ERR_TIMEOUT`, `IM_ERR_CONNECTION_LOST`, `IM_ERR_REQUEST_FAILED` (error notify).
   */
  call<C extends CommandId, R extends CommandId>(
    cmd: C,
    build: (me: number) => BodyInput<C>,
    responseCmd: R,
    options: RequestOptions | undefined,
  ): Promise<Response<BodyOf<R>> & { me: number }>;
}

/**
 * An id from the caller, checked before it is encoded: protobufjs would silently wrap a negative
 * number or truncate a fraction into some other user's id.
 *
 * @throws ImClientError `IM_ERR_INVALID_ARGUMENT`
 */
export function checkId(value: number, field: string): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new ImClientError(
      'IM_ERR_INVALID_ARGUMENT',
      `${field} must be an integer in 0..2^53-1, got ${String(value)}`,
    );
  }
  return value;
}

export function checkIds(values: readonly number[], field: string): number[] {
  return values.map((v) => checkId(v, field));
}
