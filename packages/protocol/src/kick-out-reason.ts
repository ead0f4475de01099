/**
 * Why the server closed a connection on purpose: `MqimKickOutNotify.reason` (command 0x0801),
 * sent just before the close. Never renumber; add at the end.
 */
export const KickOutReason = {
  UNKNOWN: 0,
  /** The same user logged in elsewhere and the kick-out policy removed this connection. */
  LOGGED_IN_ELSEWHERE: 1,
  /** Kicked through the HTTP API. */
  KICKED_BY_ADMIN: 2,
  /** The gate is shutting down; reconnecting (to another gate) is expected. */
  SERVER_SHUTDOWN: 3,
  /** The connection broke a limit (rate, slow consumer); `text` says which. */
  POLICY_VIOLATION: 4,
  /** The user's login tokens were revoked through the HTTP API; log in again. */
  CREDENTIALS_REVOKED: 5,
} as const;
export type KickOutReason = (typeof KickOutReason)[keyof typeof KickOutReason];
