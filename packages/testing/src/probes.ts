import { connect } from 'node:net';
import Redis from 'ioredis';
import { createConnection } from 'mysql2/promise';

export interface TcpEndpoint {
  readonly host: string;
  readonly port: number;
}

/**
 * A service an integration suite needs. `endpoints` are checked synchronously while jest collects
 * tests (that decides run / skip / fail, see `describeInfra`); `check()` then runs in a
 * `beforeAll` and proves the thing listening there actually is the service (PING, SELECT 1...),
 * so a wrong service on the port fails instead of being skipped.
 */
export interface InfraProbe {
  /** Short name used in messages: `redis`, `mysql`, `rocketmq`. */
  readonly service: string;
  /** Where it was looked for, as the user would configure it (URL with the password masked). */
  readonly target: string;
  readonly endpoints: readonly TcpEndpoint[];
  /** How to start it or point the tests elsewhere; printed when it is missing. */
  readonly hint: string;
  check(): Promise<void>;
}

export interface RedisProbe extends InfraProbe {
  readonly url: string;
}

export interface MysqlProbe extends InfraProbe {
  /** Server URI without a database path is fine: suites create their own database. */
  readonly uri: string;
}

export interface RocketMqProbe extends InfraProbe {
  /** gRPC proxy endpoints as `rocketmq-client-nodejs` takes them: `host:port[;host:port]`. */
  readonly proxyEndpoints: string;
  readonly nameServer: string;
}

const CHECK_TIMEOUT_MS = 3000;

/** Redis at `url`, else env `MQIM_TEST_REDIS_URL`, else `redis://127.0.0.1:6379`. */
export function probeRedis(url?: string): RedisProbe {
  const resolved = url ?? process.env.MQIM_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const parsed = new URL(resolved);
  return {
    service: 'redis',
    url: resolved,
    target: maskPassword(parsed),
    endpoints: [{ host: parsed.hostname || '127.0.0.1', port: Number(parsed.port || 6379) }],
    hint:
      "start Redis 7 on it (e.g. `redis-server --save '' --appendonly no`) " +
      'or set MQIM_TEST_REDIS_URL=redis://host:port',
    async check() {
      const client = new Redis(resolved, {
        lazyConnect: true,
        connectTimeout: CHECK_TIMEOUT_MS,
        maxRetriesPerRequest: 0,
        enableOfflineQueue: false,
        retryStrategy: () => null,
        disconnectTimeout: 100,
      });
      try {
        await client.connect();
        const pong = await client.ping();
        if (pong !== 'PONG') throw new Error(`unexpected PING reply ${JSON.stringify(pong)}`);
      } finally {
        client.disconnect();
      }
    },
  };
}

/** MySQL / MariaDB at `uri`, else env `MQIM_TEST_MYSQL_URI`, else `mysql://root@127.0.0.1:3306`. */
export function probeMysql(uri?: string): MysqlProbe {
  const resolved = uri ?? process.env.MQIM_TEST_MYSQL_URI ?? 'mysql://root@127.0.0.1:3306';
  const parsed = new URL(resolved);
  return {
    service: 'mysql',
    uri: resolved,
    target: maskPassword(parsed),
    endpoints: [{ host: parsed.hostname || '127.0.0.1', port: Number(parsed.port || 3306) }],
    hint:
      'start MySQL 8 or MariaDB 10.11 on it with a user allowed to CREATE DATABASE, ' +
      'or set MQIM_TEST_MYSQL_URI=mysql://user:pass@host:port',
    async check() {
      const conn = await createConnection({ uri: resolved, connectTimeout: CHECK_TIMEOUT_MS });
      try {
        await conn.query('SELECT 1');
      } finally {
        await conn.end();
      }
    },
  };
}

/**
 * RocketMQ 5: the gRPC proxy (`proxyEndpoints`, else env `MQIM_TEST_RMQ_ENDPOINTS`, else
 * `127.0.0.1:8081`) and the name server (`nameServer`, else env `MQIM_TEST_RMQ_NAMESRV`, else
 * `127.0.0.1:9876`, used by provisioning). A TCP connect to each is the whole check: a gRPC
 * handshake would need a client and a provisioned topic, which is the suites' own business.
 */
export function probeRocketMq(proxyEndpoints?: string, nameServer?: string): RocketMqProbe {
  const proxy = proxyEndpoints ?? process.env.MQIM_TEST_RMQ_ENDPOINTS ?? '127.0.0.1:8081';
  const namesrv = nameServer ?? process.env.MQIM_TEST_RMQ_NAMESRV ?? '127.0.0.1:9876';
  const endpoints = [...parseHostPorts(proxy, 8081), ...parseHostPorts(namesrv, 9876)];
  return {
    service: 'rocketmq',
    proxyEndpoints: proxy,
    nameServer: namesrv,
    target: `proxy ${proxy}, namesrv ${namesrv}`,
    endpoints,
    hint:
      'start a RocketMQ 5 name server (9876), broker and gRPC proxy (8081), ' +
      'or set MQIM_TEST_RMQ_ENDPOINTS=host:8081 and MQIM_TEST_RMQ_NAMESRV=host:9876',
    async check() {
      await Promise.all(endpoints.map((e) => tcpConnect(e, CHECK_TIMEOUT_MS)));
    },
  };
}

/** `a:1;b:2` or `a:1,b:2`; a missing port takes `defaultPort`. */
export function parseHostPorts(list: string, defaultPort: number): TcpEndpoint[] {
  return list
    .split(/[;,]/)
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => {
      const at = s.lastIndexOf(':');
      if (at < 0) return { host: s, port: defaultPort };
      const port = Number(s.slice(at + 1));
      if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`bad endpoint ${s}`);
      return { host: s.slice(0, at), port };
    });
}

export function tcpConnect(endpoint: TcpEndpoint, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: endpoint.host, port: endpoint.port });
    socket.setTimeout(timeoutMs, () => {
      socket.destroy();
      reject(new Error(`connect ${endpoint.host}:${endpoint.port} timed out after ${timeoutMs} ms`));
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
    socket.once('error', (err) => {
      socket.destroy();
      reject(err);
    });
  });
}

function maskPassword(url: URL): string {
  if (url.password === '') return url.toString();
  const copy = new URL(url.toString());
  copy.password = '***';
  return copy.toString();
}
