/**
 * The row counts multi-row statements are built for. Each distinct row count is a statement of
 * its own to compile (Kysely) and to prepare (the drivers' statement caches, 512 entries in the
 * SQLite store), and a busy server's group commits come in every size up to hundreds of rows: with
 * one statement per count, about five statements per commit, the caches churned and a compile
 * plus prepare of a many-row statement landed on most commits (round 9b in docs/performance.md).
 * Counts up to 16 are exact; above that, powers of two. A statement then has at most ~30 sizes.
 */
const EXACT_UP_TO = 16;

/** `count` rows as statement sizes, largest first; they add up to `count`. */
export function statementSizes(count: number): number[] {
  const sizes: number[] = [];
  let left = count;
  while (left > 0) {
    const size = left <= EXACT_UP_TO ? left : 2 ** Math.floor(Math.log2(left));
    sizes.push(size);
    left -= size;
  }
  return sizes;
}

/**
 * The smallest statement size that holds `count` rows, for statements where repeating a row is
 * harmless (a key list of a SELECT), so that they need no split; `count` itself when the padded
 * size would exceed `maxRows`.
 */
export function paddedSize(count: number, maxRows: number): number {
  if (count <= EXACT_UP_TO) return count;
  const padded = 2 ** Math.ceil(Math.log2(count));
  return padded <= maxRows ? padded : count;
}
