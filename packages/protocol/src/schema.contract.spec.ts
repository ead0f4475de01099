import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as protobuf from 'protobufjs';

/**
 * The mqim.v1 schema is a contract with every running role and every data team's consumer:
 * a field number or enum value, once published, keeps its meaning forever. This spec compares the
 * .proto files with the checked-in snapshot (schema.snapshot.json) and fails on anything that is
 * not an addition: a changed number, a renamed field, a number reused, a field removed without
 * being `reserved`. An addition fails too, until the snapshot is updated on purpose
 * (`UPDATE_SCHEMA_SNAPSHOT=1 npx jest packages/protocol/src/schema.contract.spec.ts`) and the
 * change has its CHANGELOG line.
 */

const ROOT = resolve(__dirname, '../../..');
const SNAPSHOT = join(__dirname, 'schema.snapshot.json');
const FILES = ['mqim/v1/envelope.proto', 'mqim/v1/events.proto'];

type Shape = Record<string, Record<string, number>>;
interface Snapshot {
  /** Message -> field name -> number; enum -> value name -> number. */
  messages: Shape;
  enums: Shape;
}

function load(): { snapshot: Snapshot; reserved: Record<string, number[]> } {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => join(ROOT, 'proto', target);
  root.loadSync(FILES, { keepCase: true });
  const pkg = root.lookup('mqim.v1') as protobuf.Namespace;
  const snapshot: Snapshot = { messages: {}, enums: {} };
  const reserved: Record<string, number[]> = {};
  for (const nested of pkg.nestedArray) {
    if (nested instanceof protobuf.Type) {
      const fields: Record<string, number> = {};
      for (const f of nested.fieldsArray) fields[f.name] = f.id;
      snapshot.messages[nested.name] = fields;
      reserved[nested.name] = (nested.reserved ?? []).flatMap((r) =>
        Array.isArray(r) ? range(r[0]!, r[1]!) : [],
      );
    } else if (nested instanceof protobuf.Enum) {
      snapshot.enums[nested.name] = { ...nested.values };
    }
  }
  return { snapshot, reserved };
}

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.min(to, from + 1000) - from + 1 }, (_, i) => from + i);
}

/** Every way `current` breaks `recorded`; additions are reported separately. */
export function compareSchemas(
  recorded: Snapshot,
  current: Snapshot,
  reserved: Record<string, number[]>,
): { breaking: string[]; added: string[] } {
  const breaking: string[] = [];
  const added: string[] = [];
  for (const kind of ['messages', 'enums'] as const) {
    for (const [type, was] of Object.entries(recorded[kind])) {
      const now = current[kind][type];
      if (!now) {
        breaking.push(`${type} was removed`);
        continue;
      }
      const byNumber = new Map(Object.entries(now).map(([name, n]) => [n, name]));
      for (const [name, n] of Object.entries(was)) {
        if (now[name] === n) continue;
        const holder = byNumber.get(n);
        if (now[name] !== undefined) breaking.push(`${type}.${name} changed its number ${n} -> ${now[name]}`);
        else if (holder !== undefined)
          breaking.push(`${type}: number ${n} of ${name} is reused by ${holder}`);
        else if (kind === 'messages' && !(reserved[type] ?? []).includes(n))
          breaking.push(`${type}.${name} (${n}) was removed without \`reserved ${n};\``);
      }
      for (const [name, n] of Object.entries(now))
        if (was[name] === undefined && !Object.values(was).includes(n)) added.push(`${type}.${name} = ${n}`);
    }
    for (const type of Object.keys(current[kind]))
      if (!recorded[kind][type]) added.push(`${kind === 'enums' ? 'enum' : 'message'} ${type}`);
  }
  return { breaking, added };
}

describe('schema contract - mqim.v1 field numbers never change or get reused', () => {
  const { snapshot: current, reserved } = load();

  if (process.env.UPDATE_SCHEMA_SNAPSHOT === '1') {
    writeFileSync(SNAPSHOT, JSON.stringify(current, null, 2) + '\n');
  }

  it('the .proto files match the snapshot (additions need a snapshot update and a CHANGELOG line)', () => {
    expect(existsSync(SNAPSHOT)).toBe(true);
    const recorded = JSON.parse(readFileSync(SNAPSHOT, 'utf8')) as Snapshot;
    const { breaking, added } = compareSchemas(recorded, current, reserved);
    expect(breaking).toEqual([]);
    expect(added).toEqual([]);
  });

  it('every message and enum of the snapshot is named in CHANGELOG.md', () => {
    const changelog = readFileSync(join(ROOT, 'CHANGELOG.md'), 'utf8');
    const missing = [...Object.keys(current.messages), ...Object.keys(current.enums)].filter(
      (name) => !new RegExp(`\\b${name}\\b`).test(changelog),
    );
    expect(missing).toEqual([]);
  });

  it('compareSchemas - a renumbered, reused or silently removed field is breaking; a new one is an addition', () => {
    const was: Snapshot = { messages: { M: { a: 1, b: 2, c: 3 } }, enums: { E: { X: 0, Y: 1 } } };
    expect(compareSchemas(was, was, {})).toEqual({ breaking: [], added: [] });
    const now: Snapshot = { messages: { M: { a: 5, b2: 2, d: 4 } }, enums: { E: { X: 0, Z: 1 } } };
    expect(compareSchemas(was, now, {}).breaking).toEqual([
      'M.a changed its number 1 -> 5',
      'M: number 2 of b is reused by b2',
      'M.c (3) was removed without `reserved 3;`',
      'E: number 1 of Y is reused by Z',
    ]);
    const removed: Snapshot = { messages: { M: { a: 1, b: 2, d: 4 } }, enums: { E: { X: 0, Y: 1 } } };
    expect(compareSchemas(was, removed, { M: [3] })).toEqual({ breaking: [], added: ['M.d = 4'] });
  });

  it('the generated code carries the same numbers as the .proto files', () => {
    // The static module is what the roles run; a stale one would publish old numbers.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { mqim } = require('./generated/proto') as typeof import('./generated/proto');
    const bytes = mqim.v1.Event.encode({ eventId: 'x', type: 5, position: { msgId: 7 } }).finish();
    const decoded = protobuf.Reader.create(bytes);
    const tags: number[] = [];
    while (decoded.pos < decoded.len) {
      const tag = decoded.uint32();
      tags.push(tag >>> 3);
      decoded.skipType(tag & 7);
    }
    expect(tags).toEqual([
      current.messages.Event!.event_id,
      current.messages.Event!.type,
      current.messages.Event!.position,
    ]);
  });
});
