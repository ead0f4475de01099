import type { AddressInfo } from 'node:net';
import { RocketMqBus, type MessageBus } from '@mqim/bus';
import type { Cache } from '@mqim/cache';
import type { Logger, MqimConfig } from '@mqim/config';
import { MqimMetrics, startOpsServer } from '@mqim/metrics';
import { MqNames } from '@mqim/protocol';
import type { Store } from '@mqim/store';
import { createBus, createCache, createStore } from './adapters.factory';
import { readiness } from './readiness';
import { composeRole, type RoleName } from './role.composition';
import { checkDatabase, checkReachable, checkRocketMq } from './startup.probes';
import { EX_CONFIG, StartupError, errorText, maskUrl, parseUrl } from './startup.error';

/** Something a failed start must close. */
export interface Closable {
  close(): Promise<void>;
}

/** A role started as its own process: what to log as ready, and how to stop it. */
export interface RunningRole {
  /** role, topicPrefix, features, and its ports (gateId/tcp/ws, port or opsPort). */
  readonly ready: Record<string, unknown>;
  /** Stops the role, then closes its bus, cache and store. */
  stop(): Promise<void>;
}

/**
 * One role over the real engines (`mqim <role>`): proves each dependency usable, composes the role
 * exactly as the standalone does (`composeRole`) and starts it with its ops server.
 * Everything opened is pushed to `opened` as soon as it is, so the caller can close it when the
 * start fails.
 * @throws StartupError naming the first dependency that is not usable, or the port that is taken
 */
export async function startRole(
  role: RoleName,
  config: MqimConfig,
  logger: Logger,
  opened: Closable[],
  metrics = new MqimMetrics(),
): Promise<RunningRole> {
  const { bus, cache, store } = await openDependencies(role, config, logger, opened, metrics);
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
    throw new StartupError(
      'MQIM_API_KEY',
      'not set',
      'set MQIM_API_KEY: business servers authenticate to `mqim api` with it',
      EX_CONFIG,
    );
  await listenOrExplain(async () => {
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
  });

  return {
    ready,
    async stop() {
      for (const stop of stops.reverse()) await stop();
      await bus.close();
      await cache.close();
      await store?.close();
    },
  };
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
  role: RoleName,
  config: MqimConfig,
  logger: Logger,
  opened: Closable[],
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
