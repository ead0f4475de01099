/**
 * What a before-send webhook adds to a send: starts a standalone (`mqim standalone`, embedded
 * adapters, its own temp dir and ports) twice — without a hook, then with MQIM_HOOK_BEFORE_SEND_URL
 * pointing at a hook in this process that answers "allow" after `--hook-ms` — and sends the same
 * fixed-rate load of text messages over TCP each time (`--pairs` conversations). Prints p50 / p99 /
 * max of send → ack (stored, 0x0302) for both runs and the difference, after one unmeasured
 * warm-up message per conversation.
 *
 *   node --import tsx scripts/before-send-latency.ts [--rate 50] [--seconds 20] [--hook-ms 5] [--pairs 10]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createImClient, type ImClient } from '@mqim/sdk';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '50' },
    seconds: { type: 'string', default: '20' },
    'hook-ms': { type: 'string', default: '5' },
    pairs: { type: 'string', default: '10' },
  },
});
const rate = Number(values.rate);
const seconds = Number(values.seconds);
const hookMs = Number(values['hook-ms']);
const pairs = Number(values.pairs);
const ROOT = resolve(__dirname, '..');
const KEY = 'before-send-latency-key';
const SECRET = 'before-send-latency-secret';

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** The business server: allows everything, after `hookMs`. */
async function startHook(): Promise<{ url: string; calls: () => number; close(): void }> {
  let calls = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      calls++;
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"action":"allow"}');
      }, hookMs);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/before-send`,
    calls: () => calls,
    close: () => server.close(),
  };
}

async function startStandalone(env: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), 'mqim-hook-latency-'));
  const [tcp, ws, http] = [await freePort(), await freePort(), await freePort()];
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', 'apps/cli/src/main.ts', 'standalone'],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        MQIM_DATA_DIR: dir,
        MQIM_API_KEY: KEY,
        MQIM_GATE_HOST: '127.0.0.1',
        MQIM_API_HOST: '127.0.0.1',
        MQIM_GATE_TCP_PORT: String(tcp),
        MQIM_GATE_WS_PORT: String(ws),
        MQIM_API_PORT: String(http),
        MQIM_PASSWORD_HASH_COST: '10',
        MQIM_LOG_LEVEL: 'warn',
        ...env,
      },
      stdio: 'ignore',
    },
  );
  const api = `http://127.0.0.1:${http}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${api}/readyz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (i > 300) throw new Error('standalone did not become ready');
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    api,
    gate: `tcp://127.0.0.1:${tcp}`,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]! : NaN;
}

async function measure(label: string, env: Record<string, string>) {
  const server = await startStandalone(env);
  const clients: ImClient[] = [];
  const peers: number[] = [];
  for (let i = 0; i < pairs; i++) {
    for (const who of ['s', 'r']) {
      const res = await fetch(`${server.api}/api/v1/users`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ userName: `${who}${i}`, password: 'secret' }),
      });
      const { userId } = (await res.json()) as { userId: number };
      if (who === 'r') peers.push(userId);
      else {
        const c = createImClient({ url: server.gate, requestTimeoutMs: 30_000 });
        await c.loginWithPassword(`${who}${i}`, 'secret');
        clients.push(c);
      }
    }
  }
  // Warm-up, not measured: one message per conversation (first connections, JIT, caches).
  await Promise.all(clients.map((c, i) => c.send({ to: peers[i]!, text: 'warm-up' })));
  const ack: number[] = [];
  let failed = 0;
  const total = Math.round(rate * seconds);
  const begin = performance.now();
  const sends: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const wait = begin + (i * 1000) / rate - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const t0 = performance.now();
    sends.push(
      clients[i % pairs]!.send({ to: peers[i % pairs]!, text: `probe ${i}` }).then(
        () => void ack.push(performance.now() - t0),
        () => void failed++,
      ),
    );
  }
  await Promise.all(sends);
  await Promise.all(clients.map((c) => c.close()));
  await server.stop();
  ack.sort((a, b) => a - b);
  const r = {
    label,
    n: ack.length,
    failed,
    p50: percentile(ack, 50),
    p99: percentile(ack, 99),
    max: ack.at(-1) ?? NaN,
  };
  console.log(
    `${label.padEnd(26)} n=${r.n} failed=${failed}  p50 ${r.p50.toFixed(1)} ms  p99 ${r.p99.toFixed(1)} ms  max ${r.max.toFixed(1)} ms`,
  );
  return r;
}

async function main(): Promise<void> {
  const hook = await startHook();
  console.log(`send -> ack at ${rate} msg/s for ${seconds} s over ${pairs} conversations`);
  const without = await measure('no hook', {});
  const withHook = await measure(`before-send hook (${hookMs} ms)`, {
    MQIM_HOOK_BEFORE_SEND_URL: hook.url,
    MQIM_HOOK_SECRET: SECRET,
  });
  console.log(`hook calls: ${hook.calls()}`);
  console.log(
    `added by the hook: p50 ${(withHook.p50 - without.p50).toFixed(1)} ms, p99 ${(withHook.p99 - without.p99).toFixed(1)} ms`,
  );
  hook.close();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
