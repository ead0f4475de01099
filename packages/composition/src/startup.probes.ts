import { connect as netConnect } from 'node:net';
import type { RocketMqBus } from '@mqim/bus';
import type { MqimConfig } from '@mqim/config';
import { MqNames } from '@mqim/protocol';
import { createConnection } from 'mysql2/promise';
import { EX_CONFIG, StartupError, errorText, maskUrl, parseUrl } from './startup.error';

// Probes that prove a dependency is usable before a role listens: each fails within seconds with
// a StartupError naming what is wrong and how to fix it.

/** How long one reachability probe may take: a role must fail within seconds, not minutes. */
const PROBE_TIMEOUT_MS = 3000;

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
export async function checkReachable(
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
