import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { MemoryBus, RocketMqBus, type MessageBus } from '@mqim/bus';
import { MemoryCache, RedisCache, type Cache } from '@mqim/cache';
import type { Logger, MqimConfig } from '@mqim/config';
import type { MqimMetrics } from '@mqim/metrics';
import { createMysqlStore, createSqliteStore, type Store } from '@mqim/store';

/** Builds the adapters a role needs from configuration: embedded ones or the real engines. */
export async function createBus(
  config: MqimConfig,
  logger: Logger,
  metrics?: MqimMetrics,
): Promise<MessageBus> {
  if (config.bus === 'memory') return new MemoryBus({ logger: logger.child({ adapter: 'memory-bus' }) });
  return new RocketMqBus({
    endpoints: config.rmqEndpoints,
    namesrv: config.rmqNamesrv,
    logger: logger.child({ adapter: 'rocketmq' }),
    onBrokerCall: metrics
      ? (op, topic, messages) => {
          metrics.brokerCalls.inc({ op, topic });
          metrics.brokerCallMessages.inc({ op, topic }, messages);
        }
      : undefined,
    onTransit: metrics
      ? (topic, ms) => metrics.transitSeconds.observe({ topic }, Math.max(0, ms) / 1000)
      : undefined,
  });
}

export async function createStore(config: MqimConfig, logger: Logger): Promise<Store> {
  if (config.store === 'sqlite') {
    mkdirSync(config.dataDir, { recursive: true });
    return createSqliteStore({
      filename: join(config.dataDir, 'mqim.sqlite'),
      shards: config.shards,
      passwordHashCost: config.passwordHashCost,
      onBackgroundError: (message) => logger.warn({ adapter: 'sqlite' }, message),
    });
  }
  return createMysqlStore({
    uri: config.mysqlUri,
    shards: config.shards,
    passwordHashCost: config.passwordHashCost,
  });
}

export async function createCache(config: MqimConfig, logger: Logger): Promise<Cache> {
  if (config.cache === 'memory') return new MemoryCache();
  const log = logger.child({ adapter: 'redis' });
  const cache = new RedisCache({
    url: config.redisUrl,
    keyPrefix: config.redisPrefix,
    onError: (err) => log.warn({ err: err.message }, 'redis connection error'),
  });
  try {
    await cache.ping();
  } catch (err) {
    await cache.close();
    throw err;
  }
  return cache;
}
