import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { createConnection } from 'mysql2/promise';
import { adopt, ROOT, track } from '../common/child.process';
import { freePort } from '../common/free-port';
import { RESULTS_DIR } from '../report/results.store';
import type { MqimTarget } from './mqim.target';

export interface ClusterTargetOptions {
  profileDir?: string;
  mysqlUri?: string;
  redisUrl?: string;
  /** Extra environment for every role (overrides ours). */
  env?: Record<string, string>;
}

// What scripts/cluster-up starts (names of its pid and log files); logic-2 not with MQIM_CLUSTER_LOGIC=1.
const ROLES = ['gate-1', 'gate-2', 'logic-1', 'logic-2', 'job-1', 'api'] as const;
const ONE_LOGIC = process.env.MQIM_CLUSTER_LOGIC === '1';
const STARTED = ROLES.filter((role) => role !== 'logic-2' || !ONE_LOGIC);

/**
 * The cluster target: `scripts/cluster-up` (migrate, provision, gate ×2, logic ×2, job, api on
 * the local RocketMQ, MariaDB and Redis) with every port picked free and one random name as topic
 * prefix, Redis key prefix and database, so it never meets the default cluster or another run.
 * Pid and log files go to bench/results/logs/<name>/. RocketMQ, MariaDB and Redis must already
 * run (MQIM_CLUSTER_SKIP_INFRA=1): the harness does not start or stop shared services.
 * `stop()` runs scripts/cluster-down, then drops the database and the Redis keys (RocketMQ
 * topics stay: there is no cheap delete).
 */
export async function startCluster(options: ClusterTargetOptions = {}): Promise<MqimTarget> {
  const name = `bench${randomBytes(4).toString('hex')}`;
  const dir = join(RESULTS_DIR, 'logs', name);
  mkdirSync(dir, { recursive: true });
  const mysqlServer = new URL(
    options.mysqlUri ?? process.env.MQIM_BENCH_MYSQL_URI ?? 'mysql://root@127.0.0.1:3306',
  );
  const mysqlDb = new URL(mysqlServer.toString());
  mysqlDb.pathname = `/${name}`;
  const redisUrl = options.redisUrl ?? process.env.MQIM_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const apiKey = randomBytes(16).toString('hex');
  const ports: number[] = [];
  for (let i = 0; i < 10; i++) ports.push(await freePort());
  const [g1tcp, g1ws, g2tcp, g2ws, api, ...ops] = ports as [
    number,
    number,
    number,
    number,
    number,
    ...number[],
  ];
  const env: Record<string, string> = {
    MQIM_CLUSTER_DIR: dir,
    MQIM_CLUSTER_SKIP_INFRA: '1',
    MQIM_CLUSTER_GATE_1_TCP: String(g1tcp),
    MQIM_CLUSTER_GATE_1_WS: String(g1ws),
    MQIM_CLUSTER_GATE_2_TCP: String(g2tcp),
    MQIM_CLUSTER_GATE_2_WS: String(g2ws),
    MQIM_CLUSTER_API_PORT: String(api),
    MQIM_CLUSTER_OPS_GATE_1: String(ops[0]),
    MQIM_CLUSTER_OPS_GATE_2: String(ops[1]),
    MQIM_CLUSTER_OPS_LOGIC_1: String(ops[2]),
    MQIM_CLUSTER_OPS_LOGIC_2: String(ops[3]),
    MQIM_CLUSTER_OPS_JOB_1: String(ops[4]),
    MQIM_TOPIC_PREFIX: name,
    MQIM_REDIS_PREFIX: `${name}:`,
    MQIM_MYSQL_URI: mysqlDb.toString(),
    MQIM_REDIS_URL: redisUrl,
    MQIM_API_KEY: apiKey,
    MQIM_GATE_HOST: '127.0.0.1',
    MQIM_API_HOST: '127.0.0.1',
    // A load generator multiplexes many users' traffic onto few connections: not under test.
    MQIM_RATE_LIMIT: '1000000',
    MQIM_USER_SEND_RATE: '0',
    MQIM_RATE_BURST: '1000000',
    // group-fanout creates its 5,000-member group in one request, above the default limit.
    MQIM_GROUP_REQUEST_MAX_MEMBERS: '10000',
    // Thousands of synthetic users register and log in: password hashing is not under test.
    MQIM_PASSWORD_HASH_COST: '10',
    ...options.env,
  };
  // Node refuses --cpu-prof in NODE_OPTIONS; cluster-up puts MQIM_NODE_ARGS on each role's command line.
  if (options.profileDir) env.MQIM_NODE_ARGS = `--cpu-prof --cpu-prof-dir=${options.profileDir}`;
  const stop = async () => {
    const opsOf = ROLES.slice(0, 5).map((role, i) => ({ role, port: ops[i]! }));
    await reportBrokerCalls(
      name,
      dir,
      opsOf.filter((r) => STARTED.includes(r.role)),
    ).catch((err: Error) => console.error(`broker call counts not read: ${err.message}`));
    await script('cluster-down', env, 60_000).catch((err: Error) => console.error(err.message));
    await dropState(name, mysqlServer, redisUrl);
  };
  try {
    await script('cluster-up', env, 180_000);
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
  const pid = (role: string) => Number(readFileSync(join(dir, `${role}.pid`), 'utf8').trim());
  const processes = STARTED.map((role) => ({ role, pid: pid(role) }));
  const adopted = adopt(processes.map((p) => p.pid));
  return {
    kind: 'cluster',
    gates: [
      { id: 'gate-1', tcp: { host: '127.0.0.1', port: g1tcp }, wsUrl: `ws://127.0.0.1:${g1ws}/ws` },
      { id: 'gate-2', tcp: { host: '127.0.0.1', port: g2tcp }, wsUrl: `ws://127.0.0.1:${g2ws}/ws` },
    ],
    api: { url: `http://127.0.0.1:${api}`, key: apiKey },
    processes,
    profileDir: options.profileDir,
    async stop() {
      await stop();
      adopted.release();
    },
  };
}

/**
 * Broker RPCs per stored chat message over the cluster's life (warm-up included), from every
 * role's `mqim_broker_calls_total`: the figure that limits a cluster on this machine
 * (docs/performance.md). Printed and written to `<dir>/broker-calls.json`.
 */
async function reportBrokerCalls(
  name: string,
  dir: string,
  roles: { role: string; port: number }[],
): Promise<void> {
  const calls = new Map<string, { calls: number; messages: number }>();
  let stored = 0;
  for (const { role, port } of roles) {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    // Every role's metrics as they were at the end, for a closer look after the run.
    writeFileSync(join(dir, `metrics-${role}.txt`), text);
    for (const line of text.split('\n')) {
      const m =
        /^(mqim_broker_calls_total|mqim_broker_call_messages_total)\{op="([^"]+)",topic="([^"]+)"\} (\S+)$/.exec(
          line,
        );
      if (m) {
        const topic = m[3]!.startsWith(`${name}-gate-`) ? 'gate-*' : m[3]!.slice(name.length + 1);
        const key = `${m[2]} ${topic}`;
        const entry = calls.get(key) ?? { calls: 0, messages: 0 };
        if (m[1] === 'mqim_broker_calls_total') entry.calls += Number(m[4]);
        else entry.messages += Number(m[4]);
        calls.set(key, entry);
      }
      const s = /^mqim_messages_stored_total\{[^}]*\} (\S+)$/.exec(line);
      if (s) stored += Number(s[1]);
    }
  }
  const rows = [...calls].sort(([a], [b]) => a.localeCompare(b));
  const perMessage = (n: number) => (stored ? n / stored : 0).toFixed(3);
  console.log(`broker calls per stored message (${stored} stored):`);
  for (const [key, v] of rows)
    console.log(
      `  ${key.padEnd(28)} ${perMessage(v.calls)} calls/msg, ${(v.messages / (v.calls || 1)).toFixed(1)} MQ msgs/call`,
    );
  const total = rows.reduce((n, [, v]) => n + v.calls, 0);
  console.log(`  ${'all'.padEnd(28)} ${perMessage(total)} calls/msg`);
  writeFileSync(
    join(dir, 'broker-calls.json'),
    JSON.stringify({ stored, calls: Object.fromEntries(rows) }, null, 2),
  );
}

/** Runs scripts/<name> to completion; fails with its output. */
function script(name: string, env: Record<string, string>, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = track(
      spawn('bash', [join(ROOT, 'scripts', name)], {
        cwd: ROOT,
        env: { ...process.env, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`scripts/${name} exited with ${code}\n${out.slice(-3000)}`));
    });
  });
}

async function dropState(name: string, mysqlServer: URL, redisUrl: string): Promise<void> {
  const conn = await createConnection({ uri: mysqlServer.toString() });
  try {
    await conn.query(`DROP DATABASE IF EXISTS \`${name}\``);
  } finally {
    await conn.end();
  }
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
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
