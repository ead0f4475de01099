/** An HTTP API error with a stable code; rendered as `{ error: { code, message } }`. */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/**
 * A decimal id from a URL path as a number: the path patterns allow 16 digits, which may be above
 * 2^53, where a JS number is no longer the id asked for. 400 IM_ERR_ID_OUT_OF_RANGE then.
 */
export function pathId(value: string, field: string): number {
  const id = Number(value);
  if (!Number.isSafeInteger(id) || id <= 0)
    throw new ApiError(400, 'IM_ERR_ID_OUT_OF_RANGE', `${field} ${value} is out of range (at most 2^53-1)`);
  return id;
}
