import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { startStandalone, type Standalone } from '@mqim/composition';
import { mqimSchema, readConfig } from '@mqim/config';
import { createImClient, type ImClient } from '@mqim/sdk';
import { waitFor } from '@mqim/testing';
import { loopbackEnv, registerUsers } from './testing/standalone.fixture';

const KEY = 'k-ops-status-0123456789';

describe('standalone - ops surface over real sockets: cluster status and online users', () => {
  let dir: string;
  let server: Standalone;
  const clients: ImClient[] = [];
  let ids: Record<string, number>;

  const api = async <T>(path: string): Promise<{ status: number; body: T }> => {
    const res = await fetch(`http://127.0.0.1:${server.ports.http}/api/v1${path}`, {
      headers: { authorization: `Bearer ${KEY}` },
    });
    return { status: res.status, body: (await res.json()) as T };
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mqim-ops-'));
    const config = readConfig(
      mqimSchema,
      loopbackEnv(dir, { MQIM_API_KEY: KEY, MQIM_PRESENCE_INTERVAL: '100ms' }),
    );
    server = await startStandalone(config, pino({ level: 'silent' }));
    ids = await registerUsers(server, ['ann', 'ben', 'cat']);
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('status - the gate reports the connections and users logged in on it; every role is listed', async () => {
    const tcp = createImClient({ url: `tcp://127.0.0.1:${server.ports.tcp}` });
    const ws = createImClient({ url: `ws://127.0.0.1:${server.ports.ws}/ws` });
    const ws2 = createImClient({ url: `ws://127.0.0.1:${server.ports.ws}/ws` });
    clients.push(tcp, ws, ws2);
    await tcp.loginWithPassword('ann', 'pw');
    await ws.loginWithPassword('ben', 'pw');
    await ws2.loginWithPassword('ben', 'pw'); // a second device of ben

    type Status = {
      ok: boolean;
      gates: { id: string; address: string; connections: number; users: number }[];
      instances: { role: string }[];
      onlineUsers: number;
    };
    await waitFor(async () => (await api<Status>('/cluster/status')).body.gates[0]?.connections === 3, {
      timeoutMs: 5000,
      message: 'the gate heartbeat reported 3 connections',
    });
    const { status, body } = await api<Status>('/cluster/status');
    expect(status).toBe(200);
    expect(body.ok).toBe(true);
    expect(body.gates).toEqual([
      expect.objectContaining({
        id: 'gate-1',
        address: `tcp://127.0.0.1:${server.ports.tcp} ws://127.0.0.1:${server.ports.ws}/ws`,
        connections: 3,
        users: 2,
      }),
    ]);
    expect(body.instances.map((i) => i.role).sort()).toEqual(['api', 'job', 'logic']);
    expect(body.onlineUsers).toBe(2);
  });

  it('online - ids of the logged-in users; a user who logs out leaves the list at once', async () => {
    const expected = [ids.ann!, ids.ben!].sort((a, b) => a - b);
    expect((await api('/online')).body).toEqual({ total: 2, userIds: expected, next: null });
    const cat = createImClient({ url: `tcp://127.0.0.1:${server.ports.tcp}` });
    clients.push(cat);
    await cat.loginWithPassword('cat', 'pw');
    await waitFor(async () => (await api<{ total: number }>('/online')).body.total === 3, {
      timeoutMs: 5000,
      message: 'cat is online',
    });
    await cat.close();
    await waitFor(async () => (await api<{ total: number }>('/online')).body.total === 2, {
      timeoutMs: 5000,
      message: 'cat is offline again',
    });
    expect((await api<{ userIds: number[] }>('/online')).body.userIds).not.toContain(ids.cat);
  });

  it('eviction - a gate taken for dead (record lost, routes evicted) re-registers its routes at its next beat', async () => {
    const dan = createImClient({ url: `tcp://127.0.0.1:${server.ports.tcp}` });
    clients.push(dan);
    await registerUsers(server, ['dan']).then((r) => Object.assign(ids, r));
    await dan.loginWithPassword('dan', 'pw');
    const routes = async () => (await server.cache.routes.lookup([ids.dan!])).get(ids.dan!) ?? [];
    expect(await routes()).toHaveLength(1);
    // What a sweeper does when the gate's heartbeat has expired (here: the record vanished).
    const presence = server.cache.presence as unknown as { clear(): void };
    presence.clear();
    await server.cache.routes.removeGate('gate-1');
    expect(await routes()).toHaveLength(0);
    // The gate's next beat (every 100 ms here) finds no record and re-announces its routes,
    // instead of leaving dan unreachable until the periodic refresh (a third of the 90 s TTL).
    await waitFor(async () => (await routes()).length === 1, {
      timeoutMs: 3000,
      message: "dan's route is back",
    });
    expect((await api<{ userIds: number[] }>('/online')).body.userIds).toContain(ids.dan);
  });
});
