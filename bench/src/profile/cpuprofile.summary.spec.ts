import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { summarizeProfile } from './cpuprofile.summary';

describe('cpuprofile summary - self time', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'cpuprofile-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('charges each sample the time until the next one, merges by function, leaves idle out', () => {
    const frame = (id: number, functionName: string, url = '') => ({
      id,
      callFrame: { functionName, url, lineNumber: 0, columnNumber: 0, scriptId: '0' },
    });
    const file = join(dir, 'p.cpuprofile');
    writeFileSync(
      file,
      JSON.stringify({
        nodes: [
          frame(1, '(root)'),
          frame(2, '(idle)'),
          frame(3, 'encode', 'file:///x/node_modules/protobufjs/src/writer.js'),
          frame(4, 'handle', 'file:///x/node_modules/protobufjs/src/writer.js'),
          frame(5, '(garbage collector)'),
        ],
        startTime: 0,
        endTime: 10_000,
        samples: [3, 3, 2, 5, 4],
        // µs; sample i lasts timeDeltas[i + 1].
        timeDeltas: [0, 1000, 2000, 4000, 500, 0],
      }),
    );
    const s = summarizeProfile(file);
    expect(s.idleMs).toBe(4);
    expect(s.busyMs).toBe(3.5);
    expect(s.top[0]).toMatchObject({ name: 'encode', selfMs: 3 });
    expect(s.top.find((r) => r.name === '(garbage collector)')?.selfMs).toBe(0.5);
    expect(s.byArea[0]).toMatchObject({ name: 'dep:protobufjs', selfMs: 3 });
  });

  it('--under - counts only from the first to the last sample with a named function on the stack', () => {
    const node = (id: number, functionName: string, children: number[] = []) => ({
      id,
      callFrame: { functionName, url: '', lineNumber: 0, columnNumber: 0, scriptId: '0' },
      children,
    });
    const file = join(dir, 'w.cpuprofile');
    writeFileSync(
      file,
      JSON.stringify({
        nodes: [
          node(1, '(root)', [2, 3, 5, 6]),
          node(2, 'startUp'),
          node(3, 'handleSend', [4]),
          node(4, 'encode'),
          node(5, '(idle)'),
          node(6, '(garbage collector)'),
        ],
        startTime: 0,
        endTime: 20_000,
        // start-up 2 ms, encode under handleSend 1 ms, idle 3 ms, GC 1 ms, encode 1 ms, start-up 5 ms.
        samples: [2, 4, 5, 6, 4, 2],
        timeDeltas: [0, 2000, 1000, 3000, 1000, 1000, 5000],
      }),
    );
    const s = summarizeProfile(file, 25, { under: ['handleSend'] });
    expect(s.window).toEqual({ fromS: 0.002, toS: 0.007001 });
    expect([s.busyMs, s.idleMs]).toEqual([3, 3]);
    expect(s.top.map((r) => [r.name, r.selfMs])).toEqual([
      ['encode', 2],
      ['(garbage collector)', 1],
    ]);
    expect(summarizeProfile(file).busyMs).toBe(10);
  });
});
