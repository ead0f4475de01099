import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

// Passwords at rest (issue 10): CoffeeChat clients send MD5(password), so the MD5 is what a login
// proves knowledge of. Storing it as is would let a database dump log in as anyone; the store keeps
// scrypt(MD5) with a random salt instead. scrypt runs on libuv's thread pool (async), so a burst
// of logins slows logins, not the event loop.

/** N = 2^14, r = 8: 16 MiB and ~50 ms per hash on one core (the OWASP minimum for scrypt). */
export const DEFAULT_PASSWORD_HASH_COST = 14;
/** The lowest cost a store accepts (N = 2^10: ~3 ms), for load tests with thousands of synthetic users. */
export const MIN_PASSWORD_HASH_COST = 10;
const R = 8;
const P = 1;
const KEY_BYTES = 32;
const SALT_BYTES = 16;
const PREFIX = 'scrypt';
// Accept stored parameters within sane bounds only: a tampered row must not make a login burn a
// gigabyte of memory.
const MAX_LOG_N = 20;

/** The configured cost, checked: a store refuses to start with one outside 10–20. */
export function passwordHashCost(cost: number | undefined): number {
  const logN = cost ?? DEFAULT_PASSWORD_HASH_COST;
  if (!Number.isInteger(logN) || logN < MIN_PASSWORD_HASH_COST || logN > MAX_LOG_N)
    throw new RangeError(
      `passwordHashCost must be an integer from ${MIN_PASSWORD_HASH_COST} to ${MAX_LOG_N}, got ${cost}`,
    );
  return logN;
}

function derive(secret: string, salt: Buffer, logN: number, r: number, p: number): Promise<Buffer> {
  const options: ScryptOptions = { N: 2 ** logN, r, p, maxmem: 256 * 2 ** logN * r + 1024 * 1024 };
  return new Promise((resolve, reject) =>
    scrypt(secret, salt, KEY_BYTES, options, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

/** `scrypt$<logN>$<r>$<p>$<salt>$<hash>`, salt and hash in base64url: at most ~90 characters. */
export async function hashPassword(md5: string, logN = DEFAULT_PASSWORD_HASH_COST): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(md5, salt, logN, R, P);
  return [PREFIX, logN, R, P, salt.toString('base64url'), key.toString('base64url')].join('$');
}

/** True when `md5` hashes to `stored`; false for a malformed stored value. Constant-time compare. */
export async function verifyPasswordHash(md5: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== PREFIX) return false;
  const [logN, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (![logN, r, p].every(Number.isInteger) || logN < 1 || logN > MAX_LOG_N || r < 1 || r > 32 || p !== 1)
    return false;
  const salt = Buffer.from(parts[4]!, 'base64url');
  const expected = Buffer.from(parts[5]!, 'base64url');
  if (expected.length !== KEY_BYTES) return false;
  const key = await derive(md5, salt, logN, r, p);
  return timingSafeEqual(key, expected);
}

let dummy: Promise<string> | undefined;

/**
 * Spends the time of one verification without a stored hash: an unknown user name then costs as
 * much as a wrong password, so response times do not tell which names exist.
 */
export async function burnPasswordCheck(md5: string, logN = DEFAULT_PASSWORD_HASH_COST): Promise<void> {
  // One dummy per process, at the first cost asked for (a process runs one store).
  dummy ??= hashPassword('0'.repeat(32), logN);
  await verifyPasswordHash(md5, await dummy);
}

/** True when a stored hash was made with weaker parameters than today's (re-hash at login). */
export function needsRehash(stored: string, logN = DEFAULT_PASSWORD_HASH_COST): boolean {
  const parts = stored.split('$');
  return parts[0] !== PREFIX || Number(parts[1]) < logN || Number(parts[2]) < R;
}
