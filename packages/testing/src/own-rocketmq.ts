import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const SCRIPT = resolve(__dirname, '../../../infra/rocketmq/rocketmq.sh');

/**
 * A RocketMQ of the test's own (name server + broker + proxy from infra/rocketmq/rocketmq.sh, in a
 * temp dir on free ports), for specs that stop, restart or kill the broker: the shared one on
 * 9876 / 8081 serves other people and must never be touched.
 */
export interface OwnRocketMq {
  /** For MQIM_RMQ_ENDPOINTS. */
  readonly proxyEndpoints: string;
  /** For MQIM_RMQ_NAMESRV. */
  readonly nameServer: string;
  readonly home: string;
  /** Starts it (again) on the same store; resolves once ready. */
  start(): Promise<void>;
  /** A clean stop (SIGTERM, waits for both JVMs to exit). */
  stop(): Promise<void>;
  /** The broker + proxy JVM dies at once (SIGKILL): no checkpoint, no flush. */
  kill(): Promise<void>;
  /** Stops it and deletes its data dir. */
  dispose(): Promise<void>;
}

function listenable(port: number): Promise<boolean> {
  return new Promise((done) => {
    const server = createServer();
    server.once('error', () => done(false));
    server.listen(port, '127.0.0.1', () => server.close(() => done(true)));
  });
}

/** `count` consecutive free ports (the broker takes its port -2 and +1 too). */
async function freeRun(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    // Below the usual ephemeral range (32768+), where the OS hands out client ports.
    const base = 20_000 + Math.floor(Math.random() * 10_000);
    let ok = true;
    for (let p = base; p < base + count && ok; p++) ok = await listenable(p);
    if (ok) return base;
  }
  throw new Error('no run of free ports found');
}

function script(cmd: string, env: Record<string, string>): Promise<void> {
  return new Promise((done, fail) => {
    execFile(
      'bash',
      [SCRIPT, cmd],
      { env: { ...process.env, ...env }, timeout: 240_000 },
      (err, _stdout, stderr) =>
        err ? fail(new Error(`rocketmq.sh ${cmd}: ${err.message}\n${stderr}`)) : done(),
    );
  });
}

export async function startOwnRocketMq(): Promise<OwnRocketMq> {
  const home = mkdtempSync(join(tmpdir(), 'mqim-own-rmq-'));
  // namesrv, broker-2 .. broker+1, grpc, remoting: 7 ports in a row.
  const base = await freeRun(7);
  const env = {
    MQIM_RMQ_HOME: home,
    MQIM_RMQ_NAMESRV_PORT: String(base),
    MQIM_RMQ_BROKER_PORT: String(base + 3),
    MQIM_RMQ_GRPC_PORT: String(base + 5),
    MQIM_RMQ_REMOTING_PORT: String(base + 6),
  };
  const own: OwnRocketMq = {
    proxyEndpoints: `127.0.0.1:${base + 5}`,
    nameServer: `127.0.0.1:${base}`,
    home,
    start: () => script('start', env),
    stop: () => script('stop', env),
    async kill() {
      const pid = Number(readFileSync(join(home, 'run', 'proxy.pid'), 'utf8').trim());
      process.kill(pid, 'SIGKILL');
      // Gone once signal 0 fails.
      while (
        (() => {
          try {
            process.kill(pid, 0);
            return true;
          } catch {
            return false;
          }
        })()
      )
        await new Promise((r) => setTimeout(r, 100));
    },
    async dispose() {
      await script('stop', env).catch(() => undefined);
      rmSync(home, { recursive: true, force: true });
    },
  };
  try {
    await own.start();
  } catch (err) {
    await own.dispose();
    throw err;
  }
  return own;
}
