import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { ImErrorNumber } from './error-codes';

/**
 * One error-code registry (issue 15 #2): `ImErrorNumber` is the only list of `IM_ERR_*` codes that
 * reach a client, docs/protocol.md lists exactly those, and each of them is raised somewhere —
 * no code defined but never sent, none sent but not defined. Metrics labels are a namespace of
 * their own (they may name events without a wire code, e.g. IM_ERR_PROTOCOL) and are skipped.
 */
const root = resolve(__dirname, '../../..');

function sources(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!['node_modules', 'generated', 'testing', 'dist'].includes(entry.name)) sources(path, out);
    } else if (/\.ts$/.test(entry.name) && !/\.(spec|int-spec|e2e-spec)\.ts$/.test(entry.name))
      out.push(path);
  }
  return out;
}

/** `'IM_ERR_*'` literals and `ImErrorNumber.IM_ERR_*` uses outside comments and metrics labels. */
function raisedCodes(file: string): string[] {
  let text = readFileSync(file, 'utf8');
  // The registry's own definitions are not uses.
  if (file.endsWith(join('protocol', 'src', 'error-codes.ts')))
    text = text
      .replace(/export const ImErrorNumber = \{[\s\S]*?\n\} as const;/, '')
      .replace(/CLIENT_FAULTS[^=]*= new Set[\s\S]*?\]\);/, '');
  const codes: string[] = [];
  for (const line of text.split('\n')) {
    if (/^\s*(\/\/|\*|\/\*)/.test(line) || /metrics\.errors\.inc|errors\.inc\(/.test(line)) continue;
    for (const m of line.matchAll(/'(IM_ERR_[A-Z_]+)'|ImErrorNumber\.(IM_ERR_[A-Z_]+)/g))
      codes.push(m[1] ?? m[2]!);
  }
  return codes;
}

describe('error registry - code, docs and what is sent agree', () => {
  const registry = Object.keys(ImErrorNumber);

  it('docs - docs/protocol.md lists exactly the registry, with the same numbers', () => {
    const doc = readFileSync(join(root, 'docs', 'protocol.md'), 'utf8');
    const listed = Object.fromEntries(
      [...doc.matchAll(/^\| (\d{5}) \| (IM_ERR_[A-Z_]+) \|/gm)].map((m) => [m[2]!, Number(m[1])]),
    );
    expect(listed).toEqual({ ...ImErrorNumber });
  });

  it('sent - every code of the registry is raised by the server or its client library', () => {
    const raised = new Set<string>();
    for (const dir of ['apps', 'packages'])
      for (const f of sources(join(root, dir))) for (const c of raisedCodes(f)) raised.add(c);
    expect(registry.filter((code) => !raised.has(code))).toEqual([]);
  });

  it('defined - the roles that answer clients (gate, logic, job) raise no code outside the registry', () => {
    const strays: string[] = [];
    for (const role of ['gate', 'logic', 'job'])
      for (const f of sources(join(root, 'apps', role, 'src')))
        for (const c of raisedCodes(f)) if (!(c in ImErrorNumber)) strays.push(`${relative(root, f)}: ${c}`);
    expect(strays).toEqual([]);
  });
});
