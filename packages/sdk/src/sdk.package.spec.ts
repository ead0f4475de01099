// The installable package (`npm run build:sdk`, docs/sdk.md): built into a temporary directory and
// consumed the way an app outside the monorepo would, by package name through node_modules, with
// no path alias in sight.
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const repo = join(__dirname, '../../..');
const tsc = join(repo, 'node_modules/typescript/bin/tsc');
let dir: string;

interface Manifest {
  type: string;
  sideEffects: boolean;
  exports: Record<string, string | Record<string, string>>;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mqim-sdk-package-'));
  execFileSync(process.execPath, [join(repo, 'scripts/build-sdk.mjs'), '--out', join(dir, 'pkg')], {
    stdio: 'pipe',
  });
  // An app's node_modules: the package (a symlink, as `npm link` makes) and its dependencies.
  mkdirSync(join(dir, 'node_modules/@mqim'), { recursive: true });
  mkdirSync(join(dir, 'node_modules/@types'), { recursive: true });
  symlinkSync(join(dir, 'pkg'), join(dir, 'node_modules/@mqim/sdk'), 'dir');
  for (const dep of ['long', 'protobufjs', 'ws', '@types/node']) {
    symlinkSync(join(repo, 'node_modules', dep), join(dir, 'node_modules', dep), 'dir');
  }
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
}, 60_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function typecheck(name: string, source: string, compilerOptions: Record<string, unknown>): void {
  writeFileSync(join(dir, `${name}.ts`), source);
  const config = {
    compilerOptions: {
      target: 'es2022',
      strict: true,
      noEmit: true,
      skipLibCheck: false,
      ...compilerOptions,
    },
    files: [`${name}.ts`],
  };
  writeFileSync(join(dir, `tsconfig.${name}.json`), JSON.stringify(config));
  try {
    execFileSync(process.execPath, [tsc, '-p', join(dir, `tsconfig.${name}.json`)], {
      cwd: dir,
      stdio: 'pipe',
    });
  } catch (err) {
    const { stdout, stderr } = err as { stdout: Buffer; stderr: Buffer };
    throw new Error(`tsc failed for ${name}.ts:\n${stdout.toString()}${stderr.toString()}`);
  }
}

async function bundle(source: string) {
  const result = await build({
    stdin: { contents: source, resolveDir: dir, loader: 'js' },
    bundle: true,
    format: 'esm',
    minify: true,
    platform: 'browser',
    target: ['es2022'],
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0].text;
  return { code, gzipped: gzipSync(code, { level: 9 }).length, inputs: Object.keys(result.metafile.inputs) };
}

describe('sdk package', () => {
  it('sdk package - an ES module package whose exports all point at files that exist', () => {
    const manifest = JSON.parse(readFileSync(join(dir, 'pkg/package.json'), 'utf8')) as Manifest;
    expect(manifest.type).toBe('module');
    expect(manifest.sideEffects).toBe(false);
    expect(Object.keys(manifest.exports)).toEqual(['.', './browser', './package.json']);
    const targets = Object.values(manifest.exports).flatMap((t) =>
      typeof t === 'string' ? [t] : Object.values(t),
    );
    for (const target of targets)
      expect({ target, exists: existsSync(join(dir, 'pkg', target)) }).toEqual({ target, exists: true });
    expect(manifest.exports['.']).toMatchObject({
      types: './sdk/src/index.d.ts',
      browser: './sdk/src/browser.js',
    });
  });

  it('sdk package - no JavaScript or declaration file refers to a monorepo alias', () => {
    const files = readdirSync(join(dir, 'pkg'), { recursive: true, encoding: 'utf8' }).filter(
      (f) => f.endsWith('.js') || f.endsWith('.d.ts'),
    );
    expect(files).toContain('sdk/src/index.d.ts');
    const aliased = files.filter((f) => /['"]@mqim\//.test(readFileSync(join(dir, 'pkg', f), 'utf8')));
    expect(aliased).toEqual([]);
  });

  it('sdk package - a Node app type-checks against "@mqim/sdk" (node16 resolution, ESM)', () => {
    typecheck(
      'node-app',
      [
        "import { createImClient, ImClientError, SessionType, passwordMd5, type ImMessage } from '@mqim/sdk';",
        "const client = createImClient({ url: ['tcp://127.0.0.1:8000', 'ws://127.0.0.1:8001/ws'], reconnect: true });",
        "client.on('message', (m: ImMessage) => console.log(m.serverMsgId + 1, m.text));",
        'export const single: number = SessionType.SINGLE;',
        'export const isImError = (e: unknown): boolean => e instanceof ImClientError && e.code === "IM_ERR_TIMEOUT";',
        "export const hash: string = passwordMd5('secret');",
        "export const sent: Promise<number> = client.send({ to: 2, text: 'hi' }).then((ack) => ack.serverMsgId);",
      ].join('\n'),
      { module: 'node16', moduleResolution: 'node16', types: ['node'] },
    );
  }, 30_000);

  it('sdk package - a web app type-checks against "@mqim/sdk/browser" with the DOM library and no Node types', () => {
    typecheck(
      'web-app',
      [
        "import { createImClient, newClientMsgId } from '@mqim/sdk/browser';",
        "const client = createImClient({ url: 'wss://im.example.com/ws' });",
        "export const sent = client.send({ to: 2, text: 'hi', clientMsgId: newClientMsgId() });",
        'export const socket: typeof WebSocket = WebSocket;',
      ].join('\n'),
      { module: 'esnext', moduleResolution: 'bundler', lib: ['ES2023', 'DOM'], types: [] },
    );
  }, 30_000);

  it('sdk package - both entries load as ES modules in Node by package name', () => {
    const script = [
      "const node = await import('@mqim/sdk');",
      "const browser = await import('@mqim/sdk/browser');",
      "const client = node.createImClient({ url: 'tcp://127.0.0.1:1' });",
      'console.log(JSON.stringify({ node: typeof node.createImClient, browser: typeof browser.createImClient,',
      '  state: client.state, single: node.SessionType.SINGLE }));',
    ].join('\n');
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: dir,
      encoding: 'utf8',
    });
    expect(JSON.parse(out)).toEqual({ node: 'function', browser: 'function', state: 'idle', single: 1 });
  });

  it('sdk package - tree-shakeable: one small import from the browser entry leaves the client and protobuf out', async () => {
    const full = await bundle("export * from '@mqim/sdk/browser';");
    const one = await bundle(
      "import { newClientMsgId } from '@mqim/sdk/browser';\nconsole.log(newClientMsgId());",
    );
    // 'mqim-sdk/0.1.0' is the client's default version string, 'mqim-cim-client' protobuf's root.
    expect(full.code).toContain('mqim-sdk/0.1.0');
    expect(full.code).toContain('mqim-cim-client');
    expect(full.inputs.filter((i) => i.startsWith('node:'))).toEqual([]);
    expect(one.code).not.toContain('mqim-sdk/0.1.0');
    expect(one.code).not.toContain('mqim-cim-client');
    expect(one.code.length).toBeLessThan(full.code.length / 50);
    console.log(
      `@mqim/sdk/browser from the package: all ${full.code.length} B minified, ${full.gzipped} B gzipped; ` +
        `{ newClientMsgId } only ${one.code.length} B minified, ${one.gzipped} B gzipped`,
    );
  }, 30_000);
});
