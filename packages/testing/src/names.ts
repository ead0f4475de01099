import { randomBytes } from 'node:crypto';

// The strictest of the places a test name ends up: MySQL unquoted database names (64 chars,
// [0-9a-z$_]), RocketMQ topics and groups ([%|a-zA-Z0-9_-], 127 chars), Redis key prefixes.
// Lowercase letters, digits and `_` are valid in all of them.
const MAX_PREFIX = 40;
const SUFFIX_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789';

/**
 * A name unique to this call, e.g. `uniqueName('cache-int')` → `cache_int_k3v9x0qa`, valid as a
 * RocketMQ topic or consumer group, a Redis key prefix and a MySQL database name, so suites running
 * side by side (and reruns after a crash) never share state.
 *
 * The prefix is lowercased and every character outside `[a-z0-9_]` becomes `_`; a prefix with
 * nothing usable left throws rather than producing an anonymous name nobody can trace back.
 */
export function uniqueName(prefix: string): string {
  const clean = prefix
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, MAX_PREFIX);
  if (clean === '') throw new Error(`uniqueName: prefix ${JSON.stringify(prefix)} has no usable character`);
  // 8 base36 chars ≈ 41 bits: collisions between concurrent runs are not a practical concern.
  const bytes = randomBytes(8);
  let suffix = '';
  for (const b of bytes) suffix += SUFFIX_CHARS[b % SUFFIX_CHARS.length];
  return `${clean}_${suffix}`;
}
