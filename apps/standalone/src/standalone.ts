import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { buildApi } from '@mqim/api';
import type { MessageBus } from '@mqim/bus';
import type { Cache } from '@mqim/cache';
import type { Logger, MqimConfig } from '@mqim/config';
import { Gate } from '@mqim/gate';
import { Job } from '@mqim/job';
import { Logic } from '@mqim/logic';
import { MqimMetrics } from '@mqim/metrics';
import { MqNames } from '@mqim/protocol';
import type { Store } from '@mqim/store';
import { createBus, createCache, createStore } from './adapters.factory';
import { apiLimits, gateOptions, jobOptions, logicOptions, pushDispatcher } from './role-options';

export interface Standalone {
  config: MqimConfig;
  bus: MessageBus;
  store: Store;
  cache: Cache;
  gate: Gate;
  logic: Logic;
  job: Job;
  api: FastifyInstance;
  ports: { tcp: number; ws: number; http: number };
  apiKey: string;
  stop(): Promise<void>;
}

/**
 * Every role in one process, talking over the bus exactly as in a cluster (gate -> bus -> logic
 * -> bus -> job -> the gate's topic -> gate), on whatever adapters the configuration names —
 * embedded ones by default.
 */
export async function startStandalone(
  config: MqimConfig,
  logger: Logger,
  metrics = new MqimMetrics(),
): Promise<Standalone> {
  const bus = await createBus(config, logger);
  const store = await createStore(config, logger);
  // One process, one operator: apply the schema instead of asking for `mqim migrate` first.
  if (store.dialect === 'mysql') await store.migrate();
  const cache = await createCache(config, logger);
  const names = new MqNames(config.topicPrefix);
  await bus.ensureTopics(names.sharedTopics());
  await bus.ensureGroups(names.sharedGroups());

  const logic = new Logic(logicOptions(config), { bus, store, cache, metrics, logger });
  const push = pushDispatcher(config, store, logger);
  const job = new Job(jobOptions(config), { bus, store, cache, metrics, logger, notifier: push });
  const gate = new Gate(gateOptions(config), { bus, routes: cache.routes, metrics, logger });
  await logic.start();
  await job.start();
  await gate.start();

  const apiKey = config.apiKey || randomBytes(18).toString('base64url');
  const api = buildApi(
    { apiKey, tokenTtlMs: config.tokenTtlMs, topicPrefix: config.topicPrefix, limits: apiLimits(config) },
    { store, cache, metrics, logger, bus, health: { check: async () => [] } },
  );
  await api.listen({ host: config.apiHost, port: config.apiPort });
  const address = api.server.address();
  const http = typeof address === 'object' && address ? address.port : config.apiPort;

  return {
    config,
    bus,
    store,
    cache,
    gate,
    logic,
    job,
    api,
    apiKey,
    ports: { tcp: gate.ports.tcp, ws: gate.ports.ws, http },
    async stop() {
      await api.close();
      await gate.stop();
      await logic.stop();
      await job.stop();
      await push.close();
      await bus.close();
      await cache.close();
      await store.close();
    },
  };
}
