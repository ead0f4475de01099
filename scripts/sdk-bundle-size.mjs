#!/usr/bin/env node
// Measures what the browser SDK costs a web page: bundles @mqim/sdk/browser the way an app's
// bundler would (esbuild, ESM, minified, for browsers) and prints its size raw and gzipped, with
// the largest inputs. Fails if the bundle pulls a Node built-in.
//
// With --package, measures the built package instead (`npm run build:sdk` first): the whole
// browser entry, and an app importing only `newClientMsgId` from it, which shows what tree-shaking
// leaves (the package is ES modules with `sideEffects: false`).
//
// Usage:  node scripts/sdk-bundle-size.mjs [--package]
import { existsSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;

async function measure(label, options) {
  const result = await build({
    ...options,
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022'],
    write: false,
    metafile: true,
    outfile: 'sdk.js',
    logLevel: 'error',
  });
  const code = result.outputFiles[0].contents;
  const nodeInputs = Object.keys(result.metafile.inputs).filter((i) => i.startsWith('node:'));
  if (nodeInputs.length > 0) {
    console.error(`the browser SDK pulls Node built-ins: ${nodeInputs.join(', ')}`);
    process.exit(1);
  }
  console.log(`${label}: ${kb(code.length)} minified, ${kb(gzipSync(code, { level: 9 }).length)} gzipped`);
  const inputs = Object.entries(Object.values(result.metafile.outputs)[0].inputs)
    .sort((a, b) => b[1].bytesInOutput - a[1].bytesInOutput)
    .slice(0, 8);
  for (const [path, { bytesInOutput }] of inputs) console.log(`  ${kb(bytesInOutput).padStart(9)}  ${path}`);
}

if (process.argv.includes('--package')) {
  const entry = join(root, 'packages/sdk/dist/sdk/src/browser.js');
  if (!existsSync(entry)) {
    console.error('no built package: run `npm run build:sdk` first');
    process.exit(1);
  }
  const app = (contents) => ({ stdin: { contents, resolveDir: root, loader: 'js' } });
  await measure('@mqim/sdk/browser (package, everything)', app(`export * from ${JSON.stringify(entry)};`));
  await measure(
    '@mqim/sdk/browser (package, { newClientMsgId } only)',
    app(`import { newClientMsgId } from ${JSON.stringify(entry)};\nconsole.log(newClientMsgId());`),
  );
} else {
  await measure('@mqim/sdk/browser', {
    entryPoints: [join(root, 'packages/sdk/src/browser.ts')],
    tsconfig: join(root, 'apps/web/tsconfig.json'),
  });
}
