import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';

const BIN = resolve(__dirname, '../../../bin/mqim');

function run(
  file: string,
  args: string[],
  cwd: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(file, args, { cwd, timeout: 60_000 }, (err, stdout, stderr) =>
      done({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** `npx mqim` runs node_modules/.bin/mqim, a symlink, from wherever the user stands. */
describe('bin/mqim - runs through the node_modules/.bin symlink from any directory', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'mqim-bin-'));
    mkdirSync(join(dir, 'node_modules/.bin'), { recursive: true });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('bin - a relative symlink, as npm makes it, run from another directory prints the config table', async () => {
    const link = join(dir, 'node_modules/.bin/mqim');
    symlinkSync(relative(join(dir, 'node_modules/.bin'), BIN), link);
    const r = await run(link, ['config'], dir);
    expect(r.stderr).not.toContain('Cannot find module');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('| `MQIM_BUS` |');
  }, 60_000);

  it('bin - a chain of symlinks (absolute, then relative) is followed to the real file', async () => {
    const first = join(dir, 'node_modules/.bin/mqim-first');
    const second = join(dir, 'mqim-second');
    symlinkSync(BIN, first);
    symlinkSync('node_modules/.bin/mqim-first', second);
    const r = await run(second, ['config'], tmpdir());
    expect(r.stderr).not.toContain('Cannot find module');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('| `MQIM_BUS` |');
  }, 60_000);
});
