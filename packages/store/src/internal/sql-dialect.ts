import { sql, type RawBuilder } from 'kysely';
import type { StoreDialect } from '../store.port';

/** A `SET column = expression` of an upsert, in the order given. */
export type Assignment = readonly [column: string, value: RawBuilder<unknown>];

/**
 * The few places where MySQL and SQLite need different SQL; everything else is one Kysely query.
 *
 * Upsert expressions may read the existing row through `sql.ref(column)` in both dialects, but
 * MySQL applies `ON DUPLICATE KEY UPDATE` assignments left to right and later ones see the
 * columns already assigned, while SQLite evaluates all of them against the old row. Callers
 * therefore put any column that other assignments compare against **last**.
 */
export interface SqlDialect {
  readonly name: StoreDialect;
  /** Most bound parameters one statement may carry (SQLite's default limit is 32,766). */
  readonly maxParams: number;
  /** The value the conflicting insert tried to write into `column`. */
  incoming(column: string): RawBuilder<unknown>;
  greatest(a: RawBuilder<unknown>, b: RawBuilder<unknown>): RawBuilder<unknown>;
  /** `ON CONFLICT (...) DO UPDATE SET ...` / `ON DUPLICATE KEY UPDATE ...` for `modifyEnd`. */
  upsert(keyColumns: readonly string[], assignments: readonly Assignment[]): RawBuilder<unknown>;
  /**
   * `(c1, c2) IN (...)` over a list of tuples: one index probe per tuple, where two separate IN
   * lists would make the planner probe their whole cross product.
   */
  rowIn(columns: readonly string[], rows: readonly (readonly unknown[])[]): RawBuilder<boolean>;
  /** A primary-key or unique-index violation. */
  isUniqueViolation(error: unknown): boolean;
}

const tuple = (values: readonly unknown[]) => sql`(${sql.join(values.map((v) => sql`${v}`))})`;
const columnTuple = (columns: readonly string[]) => sql`(${sql.join(columns.map((c) => sql.ref(c)))})`;

const assignmentList = (assignments: readonly Assignment[]) =>
  sql.join(assignments.map(([column, value]) => sql`${sql.ref(column)} = ${value}`));

export const sqliteDialect: SqlDialect = {
  name: 'sqlite',
  maxParams: 30_000,
  incoming: (column) => sql`excluded.${sql.ref(column)}`,
  greatest: (a, b) => sql`max(${a}, ${b})`,
  // SQLite has no list-of-row-values literal; a VALUES subquery is its spelling.
  rowIn: (columns, rows) => sql<boolean>`${columnTuple(columns)} in (values ${sql.join(rows.map(tuple))})`,
  upsert: (keys, assignments) =>
    sql`on conflict (${sql.join(keys.map((k) => sql.ref(k)))}) do update set ${assignmentList(assignments)}`,
  isUniqueViolation: (error) => {
    const code = errorCode(error);
    return code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE';
  },
};

export const mysqlDialect: SqlDialect = {
  name: 'mysql',
  // The protocol allows 65,535 placeholders in a prepared statement; stay well below.
  maxParams: 30_000,
  // VALUES() rather than the 8.0.19 row alias: MariaDB supports only VALUES().
  incoming: (column) => sql`values(${sql.ref(column)})`,
  greatest: (a, b) => sql`greatest(${a}, ${b})`,
  rowIn: (columns, rows) => sql<boolean>`${columnTuple(columns)} in (${sql.join(rows.map(tuple))})`,
  upsert: (_keys, assignments) => sql`on duplicate key update ${assignmentList(assignments)}`,
  isUniqueViolation: (error) => errorCode(error) === 'ER_DUP_ENTRY',
};

/** `current > incoming ? incoming : current` spelled portably, for "take the newer value". */
export function whenNewer(dialect: SqlDialect, guardColumn: string, column: string): RawBuilder<unknown> {
  return sql`case when ${dialect.incoming(guardColumn)} > ${sql.ref(guardColumn)} then ${dialect.incoming(
    column,
  )} else ${sql.ref(column)} end`;
}

export function errorCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = (error as { code: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}
