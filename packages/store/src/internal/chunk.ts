/** Limits for one multi-row statement. */
export interface ChunkLimits {
  /** Bound parameters per statement (rows × columns). */
  readonly maxParams: number;
  /** Columns per row. */
  readonly columns: number;
  /** Approximate payload bytes per statement, to stay under max_allowed_packet. @default 4 MiB */
  readonly maxBytes?: number;
}

const DEFAULT_MAX_BYTES = 4 * 1024 * 1024;

/**
 * Splits rows into groups that each fit one multi-row INSERT. `bytes` estimates a row's size;
 * a single row over the byte budget still gets a chunk of its own.
 */
export function chunkRows<T>(
  rows: readonly T[],
  limits: ChunkLimits,
  bytes: (row: T) => number = () => 0,
): T[][] {
  const maxRows = Math.max(1, Math.floor(limits.maxParams / limits.columns));
  const maxBytes = limits.maxBytes ?? DEFAULT_MAX_BYTES;
  const chunks: T[][] = [];
  let current: T[] = [];
  let size = 0;
  for (const row of rows) {
    const rowBytes = bytes(row);
    if (current.length > 0 && (current.length >= maxRows || size + rowBytes > maxBytes)) {
      chunks.push(current);
      current = [];
      size = 0;
    }
    current.push(row);
    size += rowBytes;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** Groups items by `key`, keeping first-seen order of keys and of items within a key. */
export function groupBy<T, K>(items: readonly T[], key: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = groups.get(k);
    if (list) list.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}
