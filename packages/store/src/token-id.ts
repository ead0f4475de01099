import { createHash } from 'node:crypto';

/** Length of a token id: 64 bits of the token's sha256, in hex. */
export const TOKEN_ID_LENGTH = 16;

/**
 * The public name of a login token: the first 16 hex digits of sha256(token), the hash the store
 * keeps. A session records it (route, gate connection) so that revoking or rotating one token ends
 * exactly the sessions that logged in with it. It names the token without being usable as one.
 */
export function tokenIdOf(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex').slice(0, TOKEN_ID_LENGTH);
}

/** Whether `value` has the shape of a token id (it may still name no token). */
export function isTokenId(value: unknown): value is string {
  return typeof value === 'string' && /^[0-9a-f]{16}$/.test(value);
}
