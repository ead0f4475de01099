import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { startStandalone, type Standalone } from '@mqim/composition';
import { mqimSchema, readConfig } from '@mqim/config';
import { runVoipScenario } from '@mqim/testing';
import { loopbackEnv } from './testing/standalone.fixture';

/** Issue 12 #1: CoffeeChat's call signalling on the standalone, TCP and WS mixed. */
describe('compat - VoIP signalling on the standalone', () => {
  let dir: string;
  let s: Standalone;
  afterAll(async () => {
    await s?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('invite, 100 Trying, 180/200 forwarded, 0x0403, heartbeat, busy, bye, AVCHAT message, ring-out', async () => {
    dir = mkdtempSync(join(tmpdir(), 'mqim-voip-'));
    s = await startStandalone(
      readConfig(mqimSchema, loopbackEnv(dir, { MQIM_VOIP_RING_TIMEOUT: '1500ms' })),
      pino({ level: 'warn' }),
    );
    const tcp = { transport: 'tcp' as const, port: s.ports.tcp };
    const ws = { transport: 'ws' as const, port: s.ports.ws };
    await runVoipScenario({
      apiUrl: `http://127.0.0.1:${s.ports.http}`,
      endpoints: [tcp, ws, tcp, ws],
      ringTimeoutMs: 1500,
      firstUserId: 1001,
    });
  }, 60_000);
});
