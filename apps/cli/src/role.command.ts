import type { AddressInfo } from 'node:net';
import { connect as netConnect } from 'node:net';
import { RocketMqBus, type MessageBus } from '@mqim/bus';
import type { Cache } from '@mqim/cache';
import {
  checkMqimConfig,
  createLogger,
  mqimSchema,
  readConfig,
  type Logger,
  type MqimConfig,
} from '@mqim/config';
import { MqimMetrics, startOpsServer } from '@mqim/metrics';
import { MqNames } from '@mqim/protocol';
import { composeRole, createBus, createCache, createStore, readiness, type RoleName } from '@mqim/standalone';
import type { Store } from '@mqim/store';
import { createConnection } from 'mysql2/promise';
import { onShutdown } from './shutdown';

type Role = RoleName;

/** A role process runs on the real engines unless the environment says otherwise. */
export function clusterConfig(env: NodeJS.ProcessEnv = process.env): MqimConfig {
  return readConfig(
    mqimSchema,
    { MQIM_BUS: 'rocketmq', MQIM_STORE: 'mysql', MQIM_CACHE: 'redis', ...env },
    checkMqimConfig,
  );
}

/** sysexits: a service we need does not answer / something must be set up first. */
export const EX_UNAVAILABLE = 69;
export const EX_CONFIG = 78;
/** How long one reachability probe may take: a role must fail within seconds, not minutes. */
const PROBE_TIMEOUT_MS = 3000;

/**
 * A dependency a process cannot start without. The message names the dependency, what is wrong
 * and how to fix it, because the person reading it is deploying, not debugging.
 */
export class StartupError extends Error {
  readonly code = 'IM_ERR_STARTUP';
  override readonly name = 'StartupError';

  constructor(
    readonly dependency: string,
    readonly problem: string,
    readonly fix: string,
    readonly exitCode: number = EX_UNAVAILABLE,
  ) {
    super(`${dependency}: ${problem}. Fix: ${fix}`);
  }
}

export async function runRole(role: Role): Promise<void> {
  const config = clusterConfig();
  const logger = createLogger(`mqim-${role}`);
  const opened: { close(): Promise<void> }[] = [];
  const metrics = new MqimMetrics();
  const deps = await exitOnStartupError(logger, opened, () =>
    openDependencies(role, config, logger, opened, metrics),
  );
  const { bus, cache, store } = deps;
  const stops: (() => Promise<void>)[] = [];
  const health = readiness({
    bus,
    cache,
    store,
    rmqEndpoints: config.rmqEndpoints,
    // A gate serves nothing without its own topic (it provisions it at start; this notices it gone).
    ownTopics: role === 'gate' ? [new MqNames(config.topicPrefix).gate(config.gateId)] : [],
    maxConsumeDelayMs: config.readyMaxConsumeDelayMs,
    maxLag: config.readyMaxLag,
  });

  const ready: Record<string, unknown> = { role, topicPrefix: config.topicPrefix };
  if (role === 'api' && !config.apiKey)
    await exitOnStartupError(logger, opened, async () => {
      throw new StartupError(
        'MQIM_API_KEY',
        'not set',
        'set MQIM_API_KEY: business servers authenticate to `mqim api` with it',
        EX_CONFIG,
      );
    });
  await exitOnStartupError(logger, opened, () =>
    listenOrExplain(async () => {
      // The same composition as the standalone: a feature cannot exist in one mode only.
      const composed = composeRole(role, config, { bus, cache, store, metrics, logger, health });
      await composed.start();
      stops.push(() => composed.stop());
      ready.features = composed.features;
      if (composed.gate) {
        const { gate } = composed;
        Object.assign(ready, { gateId: config.gateId, tcp: gate.ports.tcp, ws: gate.ports.ws });
      }
      if (composed.api) {
        // The bound port, not the configured one: 0 means "any free port" (tests, scripts).
        ready.port = (composed.api.server.address() as AddressInfo).port;
      } else {
        const ops = await startOpsServer(metrics, health, config.httpPort);
        stops.push(() => ops.close());
        ready.opsPort = ops.port;
      }
    }),
  );
  logger.info(ready, 'role ready');

  onShutdown(
    logger,
    async () => {
      for (const stop of stops.reverse()) await stop();
      await bus.close();
      await cache.close();
      await store?.close();
    },
    config.gateDrainGraceMs + 15_000,
  );
}

/**
 * Runs `fn`; on a `StartupError` logs it as one fatal line (dependency, problem, fix), closes
 * whatever `opened` holds and exits with the error's code. Other errors propagate.
 */
export async function exitOnStartupError<T>(
  logger: Logger,
  opened: { close(): Promise<void> }[],
  fn: () => Promise<T>,
): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (!(err instanceof StartupError)) throw err;
    logger.fatal({ dependency: err.dependency, problem: err.problem, fix: err.fix }, err.message);
    // Bounded: a half-open client must not keep a process that cannot work alive.
    await Promise.race([Promise.allSettled(opened.map((o) => o.close())), sleep(1000)]);
    process.exit(err.exitCode);
  }
}

/** A port already taken is the usual reason a listener fails: say which variable moves it. */
async function listenOrExplain(fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { port?: number };
    if (e.code !== 'EADDRINUSE' && e.code !== 'EACCES') throw err;
    throw new StartupError(
      'listen',
      `${e.code} on port ${e.port ?? '?'} (${e.message})`,
      'stop what holds the port or move this role with MQIM_GATE_TCP_PORT / MQIM_GATE_WS_PORT / MQIM_API_PORT / MQIM_HTTP_PORT',
      EX_CONFIG,
    );
  }
}

/**
 * Connects to what `role` needs and proves each dependency is usable before anything listens:
 * RocketMQ answers and has this prefix's topics, Redis answers PING, the database exists and is
 * migrated. Everything opened is pushed to `opened` so a failure can close it.
 * @throws StartupError naming the first dependency that is not usable
 */
async function openDependencies(
  role: Role,
  config: MqimConfig,
  logger: Logger,
  opened: { close(): Promise<void> }[],
  metrics: MqimMetrics,
): Promise<{ bus: MessageBus; cache: Cache; store?: Store }> {
  // Every role publishes: the api too (kicks go to the gates' topics).
  const bus = await createBus(config, logger, metrics);
  opened.push(bus);
  if (bus instanceof RocketMqBus) await checkRocketMq(bus, config);
  const cache = await openCache(config, logger);
  opened.push(cache);
  let store: Store | undefined;
  if (role !== 'gate') {
    if (config.store === 'mysql') await checkDatabase(config.mysqlUri);
    try {
      store = await createStore(config, logger);
    } catch (err) {
      throw new StartupError(
        'MySQL',
        `opening the store failed (${errorText(err)})`,
        'check MQIM_MYSQL_URI and MQIM_SHARDS, then run `mqim migrate`',
        EX_CONFIG,
      );
    }
    opened.push(store);
  }
  return { bus, cache, store };
}

/**
 * Name server and proxy answer, a master broker is registered, and every shared topic of the
 * prefix exists with its type. Without this a role on an un-provisioned prefix would start and
 * then fail each request (a gate publishes only when a client speaks).
 */
export async function checkRocketMq(bus: RocketMqBus, config: MqimConfig): Promise<void> {
  const brokers = await checkBroker(bus, config);
  const names = new MqNames(config.topicPrefix);
  const problems: string[] = [];
  for (const topic of names.sharedTopics()) {
    const type = await topicType(bus, brokers[0]!, topic.name);
    if (type === undefined) problems.push(`${topic.name} is missing`);
    else if (type !== topic.kind.toUpperCase())
      problems.push(`${topic.name} is ${type}, should be ${topic.kind.toUpperCase()}`);
  }
  if (problems.length > 0) {
    throw new StartupError(
      'RocketMQ topics',
      `prefix "${config.topicPrefix}" is not provisioned: ${problems.join(', ')}`,
      `run \`mqim provision\` with the same MQIM_TOPIC_PREFIX=${config.topicPrefix} and MQIM_RMQ_NAMESRV first`,
      EX_CONFIG,
    );
  }
}

/** `message.type` of a topic on `broker` (NORMAL, FIFO, DELAY), undefined when it does not exist. */
export async function topicType(
  bus: RocketMqBus,
  broker: string,
  topic: string,
): Promise<string | undefined> {
  try {
    const found = await bus.admin.topicConfig(broker, topic);
    return found ? (found.attributes?.['message.type'] ?? 'NORMAL') : undefined;
  } catch (err) {
    throw new StartupError(
      'RocketMQ broker',
      `reading topic ${topic} from ${broker} failed (${errorText(err)})`,
      'check that the broker is up and reachable from this host (brokerIP1)',
    );
  }
}

/** Name server and proxy answer and a master broker is registered; returns the masters. */
export async function checkBroker(bus: RocketMqBus, config: MqimConfig): Promise<string[]> {
  await checkReachable(
    'RocketMQ name server',
    `MQIM_RMQ_NAMESRV=${config.rmqNamesrv}`,
    config.rmqNamesrv,
    9876,
    'start RocketMQ (`bash infra/rocketmq/rocketmq.sh start` here) or point MQIM_RMQ_NAMESRV at its name server',
  );
  await checkReachable(
    'RocketMQ gRPC proxy',
    `MQIM_RMQ_ENDPOINTS=${config.rmqEndpoints}`,
    config.rmqEndpoints,
    8081,
    'start the RocketMQ proxy (port 8081 by default) or point MQIM_RMQ_ENDPOINTS at it',
  );
  try {
    return await bus.admin.masterBrokers();
  } catch (err) {
    throw new StartupError(
      'RocketMQ broker',
      `no usable broker behind the name server ${config.rmqNamesrv} (${errorText(err)})`,
      'wait for the broker to register (it takes a few seconds after start) or check its namesrvAddr',
    );
  }
}

async function openCache(config: MqimConfig, logger: Logger): Promise<Cache> {
  const fix = `check MQIM_REDIS_URL and that Redis runs (\`bash scripts/ensure-services.sh\` starts one here)`;
  if (config.cache === 'redis') {
    const url = parseUrl(config.redisUrl, 'MQIM_REDIS_URL');
    // ioredis only reports "max retries reached"; a TCP probe says *why* (refused, timeout...).
    if (url.protocol.startsWith('redis'))
      await checkReachable(
        'Redis',
        `MQIM_REDIS_URL=${maskUrl(config.redisUrl)}`,
        `${url.hostname}:${url.port || 6379}`,
        6379,
        fix,
      );
  }
  try {
    return await createCache(config, logger);
  } catch (err) {
    throw new StartupError('Redis', `PING to ${maskUrl(config.redisUrl)} failed (${errorText(err)})`, fix);
  }
}

/** The database exists and `mqim migrate` ran on it: the two steps a fresh cluster forgets. */
export async function checkDatabase(uri: string): Promise<void> {
  const url = parseUrl(uri, 'MQIM_MYSQL_URI');
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  const where = maskUrl(uri);
  let conn;
  try {
    conn = await createConnection({ uri, connectTimeout: PROBE_TIMEOUT_MS });
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ER_BAD_DB_ERROR')
      throw new StartupError(
        'MySQL',
        `database "${database}" does not exist on ${url.host}`,
        'run `mqim migrate` with the same MQIM_MYSQL_URI (it creates the database and its tables)',
        EX_CONFIG,
      );
    if (code === 'ER_ACCESS_DENIED_ERROR' || code === 'ER_DBACCESS_DENIED_ERROR')
      throw new StartupError(
        'MySQL',
        `access denied at ${where} (${errorText(err)})`,
        'check the user and password in MQIM_MYSQL_URI',
        EX_CONFIG,
      );
    throw new StartupError(
      'MySQL',
      `cannot connect to ${where} (${code ?? errorText(err)})`,
      'check MQIM_MYSQL_URI and that MySQL runs (`bash scripts/ensure-services.sh` starts MariaDB here)',
    );
  }
  try {
    const [rows] = await conn.query(
      "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = 'im_schema_migration'",
    );
    if (Number((rows as { n: number | string }[])[0]?.n ?? 0) === 0)
      throw new StartupError(
        'MySQL',
        `database "${database}" has no mqim schema`,
        'run `mqim migrate` with the same MQIM_MYSQL_URI',
        EX_CONFIG,
      );
  } finally {
    await conn.end().catch(() => undefined);
  }
}

/** At least one of `list` (`host:port[;host:port]`) accepts a TCP connection. */
async function checkReachable(
  dependency: string,
  setting: string,
  list: string,
  defaultPort: number,
  fix: string,
): Promise<void> {
  const endpoints = list
    .split(/[;,]/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const errors = await Promise.all(endpoints.map((e) => tcpProbe(e, defaultPort)));
  if (errors.some((e) => e === undefined)) return;
  const why = endpoints.map((e, i) => `${e} ${errors[i]}`).join(', ');
  throw new StartupError(dependency, `nothing answers at ${setting} (${why})`, fix);
}

/** undefined when `endpoint` accepts a connection, else why not. */
function tcpProbe(endpoint: string, defaultPort: number): Promise<string | undefined> {
  const at = endpoint.lastIndexOf(':');
  const host = at < 0 ? endpoint : endpoint.slice(0, at).replace(/^\[|\]$/g, '');
  const port = at < 0 ? defaultPort : Number(endpoint.slice(at + 1));
  return new Promise((resolve) => {
    const socket = netConnect({ host, port });
    const done = (error?: string) => {
      socket.destroy();
      resolve(error);
    };
    socket.setTimeout(PROBE_TIMEOUT_MS, () => done(`timeout after ${PROBE_TIMEOUT_MS} ms`));
    socket.once('connect', () => done());
    socket.once('error', (err: NodeJS.ErrnoException) => done(err.code ?? err.message));
  });
}

function parseUrl(value: string, variable: string): URL {
  try {
    return new URL(value);
  } catch {
    throw new StartupError(variable, `"${value}" is not a URL`, `set ${variable} to a valid URL`, EX_CONFIG);
  }
}

export function maskUrl(value: string): string {
  try {
    const url = new URL(value);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return value;
  }
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
