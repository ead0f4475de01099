import { CompiledQuery, sql, type RawBuilder } from 'kysely';
import { statementSizes } from './statement-sizes';
import type { Db } from './store-context';

/**
 * A multi-row INSERT (optionally with an upsert clause) for the write hot path. Kysely compiles
 * the SQL once per (table, row count) and the text is reused with fresh parameters: building and
 * compiling a node tree for every value of a 1,000-row insert costs more CPU than SQLite needs to
 * execute it. The SQL still comes from Kysely, so both dialects share it. Rows go in statements of
 * a few fixed sizes (`statementSizes`), so that the shapes stay few and cached.
 *
 * `suffix` must not bind parameters (it is compiled once, with the first execution's shape).
 */
export class MultiRowInsert {
  readonly #sql = new Map<string, string>();

  constructor(
    readonly columns: readonly string[],
    private readonly suffix: RawBuilder<unknown> = sql``,
    private readonly capacity = 1024,
  ) {}

  /** `rows[i]` holds the values in `columns` order; they are inserted in this order. */
  async execute(db: Db, table: string, rows: readonly (readonly unknown[])[]): Promise<void> {
    let start = 0;
    for (const size of statementSizes(rows.length)) {
      await this.#run(db, table, rows, start, size);
      start += size;
    }
  }

  async #run(db: Db, table: string, rows: readonly (readonly unknown[])[], start: number, count: number) {
    const key = `${table}:${count}`;
    let text = this.#sql.get(key);
    if (text === undefined) {
      text = this.#compile(db, table, count);
      if (this.#sql.size >= this.capacity) this.#sql.delete(this.#sql.keys().next().value!);
      this.#sql.set(key, text);
    }
    const width = this.columns.length;
    const parameters = new Array<unknown>(count * width);
    for (let r = 0; r < count; r++) {
      const row = rows[start + r]!;
      for (let c = 0; c < width; c++) parameters[r * width + c] = row[c];
    }
    await db.executeQuery(CompiledQuery.raw(text, parameters));
  }

  #compile(db: Db, table: string, count: number): string {
    const placeholders = sql`(${sql.join(this.columns.map(() => sql`${null}`))})`;
    const compiled =
      sql`insert into ${sql.table(table)} (${sql.join(this.columns.map((c) => sql.ref(c)))}) values ${sql.join(
        Array.from({ length: count }, () => placeholders),
      )} ${this.suffix}`.compile(db);
    if (compiled.parameters.length !== count * this.columns.length) {
      throw new Error('MultiRowInsert: the suffix must not bind parameters');
    }
    return compiled.sql;
  }
}
