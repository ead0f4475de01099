import { CompiledQuery, type Compilable } from 'kysely';
import type { Db } from './store-context';

/**
 * Hot read queries whose SQL depends only on a small "shape" (table, row count, which optional
 * clauses) while the values change on every call. The first call of a shape builds the query with
 * Kysely as usual and keeps the compiled SQL; later calls run that SQL with the new parameters,
 * skipping the node tree, the visitor and the object freezing (measured: about as much CPU as
 * SQLite needs to run the statement). The SQL still comes from Kysely, so both dialects share it,
 * and the prepared-statement caches of both stores recognise the text.
 *
 * `parameters` must be exactly what `build()` binds, in order; the first compilation of a shape
 * checks that, so a shape key that misses a variable part fails loudly instead of running the
 * wrong SQL.
 */
export class CompiledShapes {
  readonly #sql = new Map<string, string>();

  constructor(private readonly capacity = 1024) {}

  async execute<R>(
    db: Db,
    key: string,
    parameters: readonly unknown[],
    build: () => Compilable<R>,
  ): Promise<R[]> {
    let text = this.#sql.get(key);
    if (text === undefined) {
      const compiled = build().compile();
      assertSameParameters(key, compiled.parameters, parameters);
      text = compiled.sql;
      if (this.#sql.size >= this.capacity) this.#sql.delete(this.#sql.keys().next().value!);
      this.#sql.set(key, text);
    }
    const result = await db.executeQuery<R>(CompiledQuery.raw(text, [...parameters]));
    return result.rows as R[];
  }
}

function assertSameParameters(key: string, compiled: readonly unknown[], given: readonly unknown[]): void {
  if (compiled.length !== given.length || compiled.some((p, i) => p !== given[i])) {
    throw new Error(`CompiledShapes: shape "${key}" binds other parameters than the ones given`);
  }
}
