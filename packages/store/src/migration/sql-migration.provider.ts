import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { StoreDialect } from '../store.port';

/** `migrations/` at the repository root, as laid out in the monorepo. */
export const DEFAULT_MIGRATIONS_DIR = resolve(__dirname, '../../../../migrations');

export interface SqlMigration {
  /** File name without `.sql`, e.g. `0001_init`; migrations apply in name order. */
  readonly name: string;
  readonly statements: readonly string[];
}

/**
 * Renders one migration file for a shard count: every statement that mentions `{shard}` is
 * repeated for k = 0..n-1, `{shards}` becomes n. Statements end with `;` at the end of a line;
 * whole-line `--` comments are dropped first (so a `;` inside a comment cannot split anything).
 */
export function renderMigration(text: string, shards: number): string[] {
  const body = text
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('--'))
    .join('\n');
  const statements = body
    .split(/;[ \t]*(?:\r?\n|$)/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const out: string[] = [];
  for (const statement of statements) {
    const withCount = statement.replaceAll('{shards}', String(shards));
    if (!withCount.includes('{shard}')) {
      out.push(withCount);
      continue;
    }
    for (let k = 0; k < shards; k++) out.push(withCount.replaceAll('{shard}', String(k)));
  }
  return out;
}

/** Reads `<dir>/<dialect>/NNNN_name.sql`, rendered for `shards`, in name order. */
export async function loadMigrations(
  dir: string,
  dialect: StoreDialect,
  shards: number,
): Promise<SqlMigration[]> {
  const folder = join(dir, dialect);
  const files = (await readdir(folder)).filter((f) => f.endsWith('.sql')).sort();
  const migrations: SqlMigration[] = [];
  for (const file of files) {
    const text = await readFile(join(folder, file), 'utf8');
    migrations.push({ name: file.slice(0, -'.sql'.length), statements: renderMigration(text, shards) });
  }
  return migrations;
}
