import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
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
import { readiness } from './readiness';
import { composeRole } from './role.composition';

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
  /** What the roles wired, as `composeRole` reports it (see role.composition.ts). */
  features: string[];
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

  const health = readiness({ bus, cache, store, rmqEndpoints: config.rmqEndpoints });
  const deps = { bus, store, cache, metrics, logger, health };
  const apiKey = config.apiKey || randomBytes(18).toString('base64url');
  // Start order: consumers before the gate, so the first client request finds them subscribed.
  const roles = new Map(
    (['logic', 'job', 'gate', 'api'] as const).map((r) => [r, composeRole(r, config, deps, apiKey)]),
  );
  for (const r of roles.values()) await r.start();
  const gate = roles.get('gate')!.gate!;
  const api = roles.get('api')!.api!;
  const address = api.server.address();
  const http = typeof address === 'object' && address ? address.port : config.apiPort;

  return {
    config,
    bus,
    store,
    cache,
    gate,
    logic: roles.get('logic')!.logic!,
    job: roles.get('job')!.job!,
    api,
    apiKey,
    features: [...roles.values()].flatMap((r) => r.features),
    ports: { tcp: gate.ports.tcp, ws: gate.ports.ws, http },
    async stop() {
      for (const r of ['api', 'gate', 'logic', 'job'] as const) await roles.get(r)!.stop();
      await bus.close();
      await cache.close();
      await store.close();
    },
  };
}
