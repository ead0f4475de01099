/**
 * A small typed reader for environment variables. Every role validates its whole configuration
 * at start-up and reports *all* problems at once, naming the variable and what it expects, so a
 * misconfigured process fails before it touches a socket.
 */
export type FieldType = 'string' | 'int' | 'bool' | 'duration' | 'list';

interface FieldBase<T> {
  env: string;
  doc: string;
  default?: T;
  /** Reject values outside this set. */
  oneOf?: readonly string[];
  min?: number;
  max?: number;
}

export type Field =
  | (FieldBase<string> & { type: 'string' })
  | (FieldBase<number> & { type: 'int' })
  | (FieldBase<boolean> & { type: 'bool' })
  | (FieldBase<number> & { type: 'duration' })
  | (FieldBase<string[]> & { type: 'list' });

export type Schema = Record<string, Field>;

type ValueOf<F extends Field> = F['type'] extends 'string'
  ? string
  : F['type'] extends 'int' | 'duration'
    ? number
    : F['type'] extends 'bool'
      ? boolean
      : string[];

export type ConfigOf<S extends Schema> = { [K in keyof S]: ValueOf<S[K]> };

export class ConfigError extends Error {
  readonly code = 'IM_ERR_CONFIG';
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

const DURATION = /^(\d+)(ms|s|m|h)?$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses "250ms", "5s", "2m", "1h" or a bare number of milliseconds. */
export function parseDuration(raw: string): number | undefined {
  const m = DURATION.exec(raw.trim());
  if (!m) return undefined;
  return Number(m[1]) * UNIT_MS[m[2] ?? 'ms'];
}

function parseField(field: Field, raw: string): { value?: unknown; problem?: string } {
  const name = field.env;
  switch (field.type) {
    case 'string':
      if (field.oneOf && !field.oneOf.includes(raw))
        return { problem: `${name}="${raw}" must be one of ${field.oneOf.join(', ')}` };
      return { value: raw };
    case 'int': {
      if (!/^-?\d+$/.test(raw.trim())) return { problem: `${name}="${raw}" must be an integer` };
      const n = Number(raw);
      if (field.min !== undefined && n < field.min) return { problem: `${name}=${n} must be ≥ ${field.min}` };
      if (field.max !== undefined && n > field.max) return { problem: `${name}=${n} must be ≤ ${field.max}` };
      return { value: n };
    }
    case 'bool':
      if (/^(1|true|yes|on)$/i.test(raw)) return { value: true };
      if (/^(0|false|no|off)$/i.test(raw)) return { value: false };
      return { problem: `${name}="${raw}" must be true or false` };
    case 'duration': {
      const ms = parseDuration(raw);
      if (ms === undefined) return { problem: `${name}="${raw}" must be a duration like 500ms, 5s, 2m` };
      return { value: ms };
    }
    case 'list':
      return {
        value: raw
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      };
  }
}

/** Reads `schema` from `env`; throws one ConfigError listing every bad or missing variable. */
export function readConfig<S extends Schema>(
  schema: S,
  env: NodeJS.ProcessEnv = process.env,
  /** Rules across variables (e.g. one duration longer than another); each returns its problems. */
  check?: (config: ConfigOf<S>) => string[],
): ConfigOf<S> {
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [key, field] of Object.entries(schema)) {
    const raw = env[field.env];
    if (raw === undefined || raw === '') {
      if (field.default === undefined) problems.push(`${field.env} is required: ${field.doc}`);
      else out[key] = field.default;
      continue;
    }
    const { value, problem } = parseField(field, raw);
    if (problem) problems.push(problem);
    else out[key] = value;
  }
  if (problems.length === 0 && check) problems.push(...check(out as ConfigOf<S>));
  if (problems.length) throw new ConfigError(problems);
  return out as ConfigOf<S>;
}

/** A markdown table of the schema, for docs/configuration.md and `mqim config`. */
export function describeSchema(schema: Schema): string {
  const rows = Object.values(schema).map((f) => {
    const def =
      f.default === undefined
        ? '(required)'
        : Array.isArray(f.default)
          ? f.default.join(',')
          : String(f.default);
    return `| \`${f.env}\` | ${f.type} | \`${def}\` | ${f.doc} |`;
  });
  return ['| variable | type | default | meaning |', '|---|---|---|---|', ...rows].join('\n');
}
