import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { startStandalone, type Standalone } from '@mqim/composition';
import { mqimSchema, readConfig } from '@mqim/config';
import type { ImClient } from '@mqim/sdk';
import { runGroupRolesScenario } from '@mqim/testing';
import { loopbackEnv } from './testing/standalone.fixture';

const KEY = 'k-group-roles-0123456789';

/**
 * Issue 12/13 on the standalone (embedded adapters): group roles, mutes, transfer and read
 * receipts from clients on TCP and WS and over HTTP. The same scenario runs on the cluster in
 * apps/cli/src/group-roles-cluster.e2e-spec.ts.
 */
describe('group roles - standalone: roles, mutes, transfer, read receipts from clients and HTTP', () => {
  let dir: string;
  let s: Standalone;
  let clients: ImClient[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mqim-group-roles-'));
    s = await startStandalone(
      readConfig(mqimSchema, loopbackEnv(dir, { MQIM_API_KEY: KEY })),
      pino({ level: 'warn' }),
    );
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await s?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('group roles - every change is heard by every member; muted sends refused; receipts counted', async () => {
    const api = async (method: string, path: string, body?: unknown) => {
      const res = await s.api.inject({
        method: method as 'GET',
        url: `/api/v1${path}`,
        headers: { authorization: `Bearer ${KEY}` },
        ...(body === undefined ? {} : { payload: body as object }),
      });
      return { status: res.statusCode, body: res.body ? (JSON.parse(res.body) as unknown) : undefined };
    };
    clients = await runGroupRolesScenario({
      urls: [`tcp://127.0.0.1:${s.ports.tcp}`, `ws://127.0.0.1:${s.ports.ws}/ws`],
      api,
      prefix: 'gr',
      createUser: async (userName) => {
        const res = await api('POST', '/users', { userName, password: 'secret' });
        expect(res.status).toBeLessThan(300);
        return (res.body as { userId: number }).userId;
      },
    });
  }, 120_000);
});
