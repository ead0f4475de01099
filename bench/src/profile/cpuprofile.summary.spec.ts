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
});
