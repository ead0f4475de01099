#!/usr/bin/env node
// Builds @mqim/sdk as an installable ESM package (docs/sdk.md, "As a package"):
//   packages/sdk/dist/package.json          type: module, exports ".", "./browser", sideEffects: false
//   packages/sdk/dist/sdk/src/*.{js,d.ts}   the SDK, one ES module per source file
//   packages/sdk/dist/protocol/src/...      the part of @mqim/protocol it imports, the same way
//
// One file per module rather than one bundle per entry: with `sideEffects: false` an app's bundler
// then drops every module the app does not reach (a bundled entry is one module, kept whole).
// tsc emits the JavaScript and the declarations; this script then makes them stand outside the
// monorepo: the path aliases (@mqim/protocol, @mqim/protocol/client) become relative paths,
// relative imports get the `.js` extension Node's ESM loader requires, and the generated protobuf
// modules (committed as CommonJS for the server) are rewritten as ES modules.
// protobufjs, long and ws stay dependencies, not bundled: an app that also uses them gets one copy.
//
// Usage:  node scripts/build-sdk.mjs [--out DIR]      (npm run build:sdk; default packages/sdk/dist)
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const outArg = process.argv.indexOf('--out');
const out = resolve(outArg > 0 ? process.argv[outArg + 1] : join(root, 'packages/sdk/dist'));

// Where each alias the SDK may import lands in the output (tsc keeps packages/<name>/src/...).
const aliases = {
  '@mqim/protocol': 'protocol/src/index.js',
  '@mqim/protocol/client': 'protocol/src/client.js',
};

rmSync(out, { recursive: true, force: true });
execFileSync(
  process.execPath,
  [
    require.resolve('typescript/bin/tsc'),
    '-p',
    join(root, 'packages/sdk/tsconfig.build.json'),
    '--outDir',
    out,
  ],
  { stdio: 'inherit' },
);

// The generated modules: `require("protobufjs/minimal")` / `module.exports = $root` become an
// import and named exports; everything between is plain ES5 that runs the same in both forms.
const generated = join(out, 'protocol/src/generated');
mkdirSync(generated, { recursive: true });
for (const name of ['cim.client', 'proto']) {
  const source = join(root, 'packages/protocol/src/generated', name);
  const cjs = readFileSync(`${source}.js`, 'utf8');
  const names = [...cjs.matchAll(/^\$root\.(\w+) = /gm)].map((m) => m[1]);
  const requireLine = 'var $protobuf = require("protobufjs/minimal");';
  const exportLine = 'module.exports = $root;';
  if (!cjs.includes(requireLine) || !cjs.includes(exportLine) || names.length === 0) {
    throw new Error(`${name}.js: not the CommonJS shape pbjs writes; update scripts/build-sdk.mjs`);
  }
  const esm = cjs
    .replace('"use strict";\n', '')
    .replace(requireLine, 'import $protobuf from "protobufjs/minimal.js";')
    .replace(exportLine, `export const { ${names.join(', ')} } = $root;\nexport default $root;`);
  writeFileSync(join(generated, `${name}.js`), esm);
  copyFileSync(`${source}.d.ts`, join(generated, `${name}.d.ts`));
}

function filesUnder(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)],
  );
}

function rewrite(file, specifier) {
  if (specifier in aliases) return relativeSpecifier(file, join(out, aliases[specifier]));
  if (specifier.startsWith('@mqim/')) throw new Error(`${file}: ${specifier} is not part of the SDK package`);
  // protobufjs has no `exports` map, so Node's ESM loader needs the file name.
  if (specifier === 'protobufjs/minimal') return 'protobufjs/minimal.js';
  if (!specifier.startsWith('.') || specifier.endsWith('.js')) return specifier;
  const target = resolve(dirname(file), specifier);
  if (existsSync(`${target}.js`) || existsSync(`${target}.d.ts`)) return `${specifier}.js`;
  if (existsSync(target) && statSync(target).isDirectory()) return `${specifier}/index.js`;
  throw new Error(`${file}: cannot resolve ${specifier}`);
}

function relativeSpecifier(from, to) {
  const path = relative(dirname(from), to).split(sep).join('/');
  return path.startsWith('.') ? path : `./${path}`;
}

// Specifiers in `from '…'`, `import '…'` and `import('…')` (declarations use the last for types).
const specifierPattern = /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])([^'"\n]+)\2/g;
for (const file of filesUnder(out)) {
  if (!file.endsWith('.js') && !file.endsWith('.d.ts')) continue;
  const text = readFileSync(file, 'utf8');
  const next = text.replace(
    specifierPattern,
    (_, lead, quote, spec) => `${lead}${quote}${rewrite(file, spec)}${quote}`,
  );
  if (next !== text) writeFileSync(file, next);
}

const rootPackage = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const entry = (name) => ({ types: `./sdk/src/${name}.d.ts`, default: `./sdk/src/${name}.js` });
const manifest = {
  name: '@mqim/sdk',
  version: rootPackage.version,
  description:
    'TypeScript client for mqim and other CIM servers: Node (TCP, WebSocket) and browsers (WebSocket)',
  license: rootPackage.license,
  type: 'module',
  sideEffects: false,
  exports: {
    // A bundler targeting browsers that imports the package root gets the browser entry.
    '.': { types: './sdk/src/index.d.ts', browser: './sdk/src/browser.js', default: './sdk/src/index.js' },
    './browser': entry('browser'),
    './package.json': './package.json',
  },
  types: './sdk/src/index.d.ts',
  engines: { node: '>=20' },
  dependencies: Object.fromEntries(['long', 'protobufjs', 'ws'].map((d) => [d, rootPackage.dependencies[d]])),
};
writeFileSync(join(out, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
console.log(`@mqim/sdk -> ${relative(process.cwd(), out) || '.'}`);
