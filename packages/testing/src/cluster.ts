import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import Redis from 'ioredis';
import { createConnection } from 'mysql2/promise';
import { startMqim, type MqimProcess } from './mqim-process';
import { uniqueName } from './names';
import { probeMysql, probeRedis, probeRocketMq } from './probes';

const ROOT = resolve(__dirname, '../../..');
const MAIN = resolve(ROOT, 'apps/cli/src/main.ts');

export interface ClusterOptions {
  /** @default 2 */
  gates?: number;
  /** @default 1 */
  logic?: number;
  /** @default 1 */
  jobs?: number;
  /** @default true */
  api?: boolean;
  /** Start of the unique prefix / database name. @default 'cluster' */
  name?: string;
  /** Extra environment for every process (timers, limits...). */
  env?: Record<string, string>;
  /** Per-process readiness deadline. @default 90000 */
  timeoutMs?: number;
}

export interface ClusterGate {
  readonly id: string;
  readonly proc: MqimProcess;
  /** `tcp://127.0.0.1:<port>` */
  readonly tcp: string;
  /** `ws://127.0.0.1:<port>/ws` */
  readonly ws: string;
}

export interface ClusterApi {
  readonly proc: MqimProcess;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly key: string;
}

/**
 * mqim roles as real processes on the real RocketMQ, MySQL and Redis, isolated from every other
 * run by one unique name used as topic prefix, Redis key prefix and database name.
 */
export interface MqimCluster {
  /** Topic prefix, database name, and (with a `:`) Redis key prefix. */
  readonly name: string;
  /** The environment every process of this cluster shares. */
  readonly env: Readonly<Record<string, string>>;
  readonly gates: ClusterGate[];
  readonly logic: MqimProcess[];
  readonly jobs: MqimProcess[];
  readonly api: ClusterApi | undefined;
  /** One more gate (next free `gate-<n>` id unless given); it provisions its own topic. */
  startGate(id?: string): Promise<ClusterGate>;
  startLogic(): Promise<MqimProcess>;
  /** Runs an mqim command of this cluster to completion (migrate, provision...). */
  run(args: string[], env?: Record<string, string>): Promise<MqimRun>;
  /** Stops every process (SIGTERM, SIGKILL after 10 s), drops the database and the Redis keys. */
  stop(): Promise<void>;
}

export interface MqimRun {
  code: number | null;
  /** JSON log lines (non-JSON lines as `{ msg }`). */
  logs: Record<string, unknown>[];
  stderr: string;
  ms: number;
}

/**
 * Runs `mqim <args>` to completion and returns its exit code and logs. For one-shot commands and
 * for roles expected to refuse to start; kills it after `timeoutMs`.
 */
export function runMqim(
  args: string[],
  options: { env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<MqimRun> {
  const started = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    cwd: ROOT,
    env: { ...process.env, MQIM_LOG_LEVEL: 'info', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
  return new Promise((done) => {
    child.once('close', (code) => {
      clearTimeout(timer);
      const logs = stdout
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((line) => {
          try {
            return JSON.parse(line) as Record<string, unknown>;
          } catch {
            return { msg: line };
          }
        });
      done({ code, logs, stderr, ms: Date.now() - started });
    });
  });
}

/**
 * Migrates and provisions a fresh cluster (through the CLI, as an operator would), then starts
 * its roles in parallel and resolves once each logged "role ready". Every port is ephemeral.
 */
export async function startCluster(options: ClusterOptions = {}): Promise<MqimCluster> {
  const name = uniqueName(options.name ?? 'cluster');
  const rmq = probeRocketMq();
  const mysqlServer = new URL(probeMysql().uri);
  mysqlServer.pathname = `/${name}`;
  const apiKey = `key-${name}`;
  const env: Record<string, string> = {
    MQIM_TOPIC_PREFIX: name,
    MQIM_REDIS_PREFIX: `${name}:`,
    MQIM_MYSQL_URI: mysqlServer.toString(),
    MQIM_REDIS_URL: probeRedis().url,
    MQIM_RMQ_ENDPOINTS: rmq.proxyEndpoints,
    MQIM_RMQ_NAMESRV: rmq.nameServer,
    MQIM_API_KEY: apiKey,
    MQIM_GATE_HOST: '127.0.0.1',
    MQIM_API_HOST: '127.0.0.1',
    MQIM_GATE_TCP_PORT: '0',
    MQIM_GATE_WS_PORT: '0',
    MQIM_API_PORT: '0',
    MQIM_HTTP_PORT: '0',
    ...options.env,
  };
  const timeoutMs = options.timeoutMs ?? 90_000;
  const procs: MqimProcess[] = [];
  const gates: ClusterGate[] = [];
  const logic: MqimProcess[] = [];
  const jobs: MqimProcess[] = [];
  let gateSeq = 0;

  const start = async (role: string, extra: Record<string, string> = {}): Promise<MqimProcess> => {
    const proc = await startMqim([role], { env: { ...env, ...extra }, timeoutMs });
    procs.push(proc);
    return proc;
  };
  const run = async (args: string[], extra: Record<string, string> = {}): Promise<MqimRun> =>
    runMqim(args, { env: { ...env, ...extra }, timeoutMs });

  const cluster: MqimCluster = {
    name,
    env,
    gates,
    logic,
    jobs,
    api: undefined,
    run,
    async startGate(id) {
      const gateId = id ?? `gate-${++gateSeq}`;
      const proc = await start('gate', { MQIM_GATE_ID: gateId });
      const gate = {
        id: gateId,
        proc,
        tcp: `tcp://127.0.0.1:${proc.ready.tcp as number}`,
        ws: `ws://127.0.0.1:${proc.ready.ws as number}/ws`,
      };
      gates.push(gate);
      return gate;
    },
    async startLogic() {
      const proc = await start('logic');
      logic.push(proc);
      return proc;
    },
    async stop() {
      await Promise.all(procs.map((p) => stopWithin(p, 10_000)));
      await dropState(name, env);
    },
  };

  try {
    const setup = await Promise.all([run(['migrate']), run(['provision'])]);
    for (const [i, r] of setup.entries()) {
      if (r.code !== 0) {
        const tail = r.logs.slice(-5).map((l) => JSON.stringify(l));
        throw new Error(
          `mqim ${i === 0 ? 'migrate' : 'provision'} exited with ${r.code}\n${tail.join('\n')}\n${r.stderr}`,
        );
      }
    }
    const starts: Promise<unknown>[] = [];
    for (let i = 0; i < (options.gates ?? 2); i++) starts.push(cluster.startGate());
    for (let i = 0; i < (options.logic ?? 1); i++) starts.push(cluster.startLogic());
    for (let i = 0; i < (options.jobs ?? 1); i++) starts.push(start('job').then((p) => jobs.push(p)));
    if (options.api ?? true) {
      starts.push(
        start('api').then((proc) => {
          (cluster as { api: ClusterApi | undefined }).api = {
            proc,
            url: `http://127.0.0.1:${proc.ready.port as number}`,
            key: apiKey,
          };
        }),
      );
    }
    const results = await Promise.allSettled(starts);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    // Gates sorted by id, whatever order they became ready in.
    gates.sort((a, b) => a.id.localeCompare(b.id, 'en', { numeric: true }));
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}

async function stopWithin(proc: MqimProcess, ms: number): Promise<void> {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), ms);
  await proc.stop();
  clearTimeout(timer);
}

/** What a cluster leaves behind besides its topics (RocketMQ has no cheap delete; CI starts fresh). */
async function dropState(name: string, env: Record<string, string>): Promise<void> {
  const server = new URL(env.MQIM_MYSQL_URI!);
  server.pathname = '/';
  const conn = await createConnection({ uri: server.toString() });
  try {
    await conn.query(`DROP DATABASE IF EXISTS \`${name}\``);
  } finally {
    await conn.end();
  }
  const redis = new Redis(env.MQIM_REDIS_URL!, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${name}:*`, 'COUNT', 500);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
