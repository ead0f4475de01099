import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { isInfraRequired } from '@mqim/testing';
import { chromium, type Browser } from 'playwright-core';

/** Debian's chromium (`apt-get install chromium`), or MQIM_CHROMIUM. */
export const CHROMIUM_PATH = process.env.MQIM_CHROMIUM || '/usr/bin/chromium';

/**
 * Flags for a shared CI machine: no sandbox (containers run as root), no GPU, and none of the
 * background traffic (updates, sync, safe browsing) that makes timings noisy.
 */
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Screenshots and other artifacts of browser runs (gitignored; CI keeps the folder). */
export const ARTIFACTS = resolve(__dirname, '../../../../test-artifacts/browser');

export function launchChromium(): Promise<Browser> {
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: FLAGS, headless: true });
}

/**
 * `describe` for suites that drive Chromium: runs when the binary is there; without it, fails in
 * runs that require infrastructure (CI installs chromium in .ci/run) and is a loud skip elsewhere,
 * like the suites that need RocketMQ or MariaDB.
 */
export function describeBrowser(title: string, body: () => void): void {
  if (existsSync(CHROMIUM_PATH)) {
    describe(title, body);
    return;
  }
  const why = `chromium not found at ${CHROMIUM_PATH}. To fix: apt-get install -y chromium (or set MQIM_CHROMIUM)`;
  if (isInfraRequired()) {
    describe(title, () => {
      it('infrastructure - chromium installed', () => {
        throw new Error(`"${title}" requires a browser (MQIM_REQUIRE_INFRA=1 or CI=true): ${why}`);
      });
      describe.skip('(not run: chromium missing)', body);
    });
    return;
  }
  console.warn(`\n⚠⚠⚠ SKIPPED "${title}": ${why}\n  Set MQIM_REQUIRE_INFRA=1 to make it a failure.\n`);
  describe.skip(title, body);
}
