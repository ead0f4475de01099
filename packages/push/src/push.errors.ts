/**
 * Push is misconfigured: a missing field, an unreadable key file, a service-account JSON without a
 * private key... Thrown at start-up, listing every problem, so the process fails before it runs.
 */
export class PushConfigError extends Error {
  readonly code = 'IM_ERR_PUSH_CONFIG';
  override readonly name = 'PushConfigError';
  constructor(readonly problems: string[]) {
    super(`invalid push configuration:\n  - ${problems.join('\n  - ')}`);
  }
}

/**
 * The provider could not obtain credentials for a request (FCM's OAuth token endpoint refused or
 * was unreachable). Never escapes `send()`; it ends up as the `reason` of a failed `PushResult`.
 */
export class PushAuthError extends Error {
  readonly code = 'IM_ERR_PUSH_AUTH';
  override readonly name = 'PushAuthError';
  constructor(
    message: string,
    /** Worth retrying (network error, 5xx, 429) rather than a refusal of our credentials. */
    readonly transient: boolean,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}
