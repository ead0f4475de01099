import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { startStandalone, type Standalone } from '@mqim/composition';
import { mqimSchema, readConfig } from '@mqim/config';
import { runFlutterHttpScenario, runLegacyScenario } from '@mqim/testing';
import { loopbackEnv } from './testing/standalone.fixture';

/** Issue 12 #3-#5: CoffeeChat-shaped clients beside the mqim SDK on the standalone (ADR 0012). */
describe('compat - CoffeeChat clients beside the SDK on the standalone', () => {
  let dir: string;
  let s: Standalone;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mqim-legacy-'));
    s = await startStandalone(readConfig(mqimSchema, loopbackEnv(dir)), pino({ level: 'warn' }));
  });
  afterAll(async () => {
    await s?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('flutter http - a 6-character register token logs in; nickname query and generate answer the legacy shape', async () => {
    await runFlutterHttpScenario({
      apiUrl: `http://127.0.0.1:${s.ports.http}`,
      gateUrl: `tcp://127.0.0.1:${s.ports.tcp}`,
      userId: 4001,
    });
  }, 60_000);

  it('no self-copies and no refused 0x0302 for legacy clients; the SDK keeps both', async () => {
    const tcp = { transport: 'tcp' as const, port: s.ports.tcp };
    const ws = { transport: 'ws' as const, port: s.ports.ws };
    await runLegacyScenario({
      apiUrl: `http://127.0.0.1:${s.ports.http}`,
      endpoints: [tcp, ws, ws],
      firstUserId: 3001,
    });
  }, 60_000);
});
