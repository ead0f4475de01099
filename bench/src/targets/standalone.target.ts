import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../common/child.process';
import type { MqimTarget } from './mqim.target';

export interface StandaloneOptions {
  /** Write a .cpuprofile of the server here when it stops. */
  profileDir?: string;
  /** Extra environment for the server (overrides ours). */
  env?: Record<string, string>;
}

/**
 * `mqim standalone` as a child process: fresh SQLite directory, ports picked by the OS,
 * loopback only, and the per-connection rate limit raised out of the way (a load generator
 * multiplexes many users' worth of traffic onto few connections; the limit is not under test).
 */
export async function startStandalone(options: StandaloneOptions = {}): Promise<MqimTarget> {
  const dataDir = mkdtempSync(join(tmpdir(), 'mqim-bench-'));
  const apiKey = randomBytes(16).toString('hex');
  // --max-semi-space-size as `npm start` and bin/mqim give it (docs/performance.md, round 9b).
  const nodeArgs = ['--max-semi-space-size=64'];
  if (options.profileDir) nodeArgs.push('--cpu-prof', '--cpu-prof-dir', options.profileDir);
  const server = await startServer({
    name: 'mqim standalone',
    entry: 'apps/cli/src/main.ts',
    args: ['standalone'],
    nodeArgs,
    env: {
      MQIM_DATA_DIR: dataDir,
      MQIM_GATE_HOST: '127.0.0.1',
      MQIM_API_HOST: '127.0.0.1',
      MQIM_GATE_TCP_PORT: '0',
      MQIM_GATE_WS_PORT: '0',
      MQIM_API_PORT: '0',
      MQIM_HTTP_PORT: '0',
      MQIM_API_KEY: apiKey,
      MQIM_RATE_LIMIT: '1000000',
      MQIM_USER_SEND_RATE: '0',
      MQIM_RATE_BURST: '1000000',
      // group-fanout creates its 5,000-member group in one request, above the default limit.
      MQIM_GROUP_REQUEST_MAX_MEMBERS: '10000',
      // Thousands of synthetic users register and log in: password hashing is not under test.
      MQIM_PASSWORD_HASH_COST: '10',
      MQIM_LOG_LEVEL: 'info',
      ...options.env,
    },
    isReady: (l) => l.msg === 'mqim standalone ready',
  });
  const { tcp, ws, http } = server.ready as { tcp: number; ws: number; http: number };
  return {
    kind: 'standalone',
    gates: [{ id: 'gate-1', tcp: { host: '127.0.0.1', port: tcp }, wsUrl: `ws://127.0.0.1:${ws}/ws` }],
    api: { url: `http://127.0.0.1:${http}`, key: apiKey },
    processes: [{ role: 'standalone', pid: server.pid }],
    profileDir: options.profileDir,
    async stop() {
      const code = await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
      if (code !== 0 && code !== null) console.error(`mqim standalone exited with ${code}\n${server.tail()}`);
    },
  };
}
