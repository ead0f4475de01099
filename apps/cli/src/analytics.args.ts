/**
 * Flags of the analytics example commands (`mqim tap`, `mqim events-sink`). A bad value is an
 * `ArgError` the command prints with its usage and exit code 2, never a silent default.
 */
export class ArgError extends Error {
  override readonly name = 'ArgError';
}

/** The value after `--name` (or of `--name=value`); undefined when the flag is absent. */
export function flag(argv: readonly string[], name: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === name) {
      const value = argv[i + 1];
      if (value === undefined || value.startsWith('--')) throw new ArgError(`${name} needs a value`);
      return value;
    }
    if (arg.startsWith(`${name}=`)) return arg.slice(name.length + 1);
  }
  return undefined;
}

/** Refuses flags the command does not know (a typo must not run with defaults). */
export function checkFlags(argv: readonly string[], known: readonly string[]): void {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) continue;
    const name = arg.includes('=') ? arg.slice(0, arg.indexOf('=')) : arg;
    if (!known.includes(name)) throw new ArgError(`unknown flag ${name}`);
    if (!arg.includes('=')) i++;
  }
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `60s`, `500ms`, `1m`, `2h`, or a bare number of milliseconds; at least 100 ms. */
export function parseDuration(value: string, name: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (!m) throw new ArgError(`${name}: "${value}" is not a duration (60s, 500ms, 1m)`);
  const ms = Number(m[1]) * UNIT_MS[m[2] ?? 'ms']!;
  if (!(ms >= 100)) throw new ArgError(`${name}: at least 100ms`);
  return Math.round(ms);
}
