import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApi } from '@mqim/api';
import type { MessageBus } from '@mqim/bus';
import type { Cache } from '@mqim/cache';
import type { Logger, MqimConfig } from '@mqim/config';
import { Gate } from '@mqim/gate';
import { Job } from '@mqim/job';
import { Logic } from '@mqim/logic';
import type { HealthSource, MqimMetrics } from '@mqim/metrics';
import type { Store } from '@mqim/store';
import type { InstanceInfo } from '@mqim/cache';
import { buildWebAssets } from '@mqim/web';
import { DeadGateSweeper } from './dead-gate.sweeper';
import { PresenceHeartbeat } from './presence.heartbeat';
import {
  apiLimits,
  apiSendOptions,
  gateOptions,
  jobOptions,
  logicOptions,
  observerHooks,
  pushDispatcher,
} from './role-options';

export type RoleName = 'gate' | 'logic' | 'job' | 'api';
export const ROLES: readonly RoleName[] = ['gate', 'logic', 'job', 'api'];

/** What a role needs from outside. Every role gets a bus: the api publishes kicks like a gate. */
export interface RoleDeps {
  bus: MessageBus;
  cache: Cache;
  /** Every role but the gate (a gate never opens the database). */
  store?: Store;
  metrics: MqimMetrics;
  logger: Logger;
  health: HealthSource;
}

/**
 * One role, built with every feature the configuration asks for. `features` names what is wired
 * (e.g. `push:webhook`, `kick`) so a test can compare topologies instead of trusting the code.
 */
export interface ComposedRole {
  readonly role: RoleName;
  readonly features: readonly string[];
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly gate?: Gate;
  readonly logic?: Logic;
  readonly job?: Job;
  readonly api?: FastifyInstance;
}

/**
 * The single place where a role is assembled: the standalone calls it for all four roles over one
 * set of adapters, `mqim <role>` for one role over the real engines. A feature added here exists in
 * both modes; a feature added anywhere else exists in one of them only.
 * @param apiKey overrides `config.apiKey` (the standalone invents one when none is set)
 */
export function composeRole(
  role: RoleName,
  config: MqimConfig,
  deps: RoleDeps,
  apiKey?: string,
): ComposedRole {
  return withPresence(composeFeatures(role, config, deps, apiKey), config, deps);
}

/**
 * Every role beats into the presence registry (what `mqim status` and `/api/v1/cluster/status`
 * list); logic and job also sweep the routes of dead gates. The beat starts before the role (a
 * gate is listed before it registers any route) and leaves after it stopped.
 */
function withPresence(composed: ComposedRole, config: MqimConfig, deps: RoleDeps): ComposedRole {
  const { role, gate, api } = composed;
  const log = deps.logger.child({ role, component: 'presence' });
  const startedAt = Date.now();
  const base = {
    role,
    id: role === 'gate' ? config.gateId : config.instanceId || `${hostname()}-${process.pid}`,
    pid: process.pid,
    host: hostname(),
    startedAt,
    version: VERSION,
  };
  const describe = (): InstanceInfo => {
    if (gate) {
      const host = advertised(config.gateHost);
      const address = gate.ports.tcp
        ? `tcp://${host}:${gate.ports.tcp} ws://${host}:${gate.ports.ws}/ws`
        : '';
      return { ...base, address, connections: gate.connectionCount, users: gate.userCount };
    }
    const bound = api?.server.address();
    if (bound && typeof bound === 'object')
      return { ...base, address: `http://${advertised(config.apiHost)}:${bound.port}` };
    return base;
  };
  const heartbeat = new PresenceHeartbeat(
    deps.cache.presence,
    describe,
    { intervalMs: config.presenceIntervalMs, ttlMs: config.presenceTtlMs },
    log,
    // Not the first beat: the record had lapsed, so the sweepers may have taken this gate's routes.
    (first) => {
      if (!first) gate?.refreshRoutes();
    },
  );
  const sweeper =
    role === 'logic' || role === 'job'
      ? new DeadGateSweeper(deps.cache, log, config.deadGateSweepMs, deps.metrics)
      : undefined;
  return {
    ...composed,
    async start() {
      await heartbeat.start();
      try {
        // A gate that starts holds no connection yet: routes under its id are a previous
        // incarnation's (killed, restarted under the same id before the sweepers noticed).
        if (gate) await deps.cache.routes.removeGate(config.gateId);
        await composed.start();
      } catch (err) {
        await heartbeat.stop();
        throw err;
      }
      // Beat again at once with what start() bound (ports, address).
      await heartbeat.beatNow();
      sweeper?.start();
    },
    async stop() {
      await sweeper?.stop();
      await composed.stop();
      await heartbeat.stop();
    },
  };
}

const VERSION = ((): string => {
  try {
    const pkg = JSON.parse(readFileSync(resolve(__dirname, '../../../package.json'), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
})();

/** A wildcard listen address says nothing to a reader: show the host name instead. */
function listOf(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function advertised(host: string): string {
  return host === '0.0.0.0' || host === '::' || host === '' ? hostname() : host;
}

function composeFeatures(role: RoleName, config: MqimConfig, deps: RoleDeps, apiKey?: string): ComposedRole {
  const { bus, cache, metrics, logger } = deps;
  const needStore = (): Store => {
    if (!deps.store) throw new Error(`the ${role} role needs a store`);
    return deps.store;
  };
  switch (role) {
    case 'gate': {
      const gate = new Gate(gateOptions(config), {
        bus,
        routes: cache.routes,
        rates: cache.rates,
        metrics,
        logger,
      });
      return {
        role,
        features: ['gate', 'drain'],
        gate,
        start: () => gate.start(),
        async stop() {
          const drained = await gate.drain(config.gateDrainGraceMs);
          logger.info({ gate: config.gateId, ...drained }, 'gate drained');
        },
      };
    }
    case 'logic': {
      const logic = new Logic(logicOptions(config), { bus, store: needStore(), cache, metrics, logger });
      return { role, features: ['logic'], logic, start: () => logic.start(), stop: () => logic.stop() };
    }
    case 'job': {
      const store = needStore();
      // The job publishes each push's outcome on the event stream; the dispatcher is built first.
      const reportTo: { job?: Job } = {};
      const push = pushDispatcher(config, store, logger, (n, report) => reportTo.job?.reportPush(n, report));
      const hooks = observerHooks(config, store, logger);
      const job = new Job(jobOptions(config), {
        bus,
        store,
        cache,
        metrics,
        logger,
        notifier: push,
        observer: hooks?.hooks,
      });
      reportTo.job = job;
      return {
        role,
        features: ['job', ...push.platforms.map((p) => `push:${p}`), ...(hooks ? ['hooks'] : [])],
        job,
        start: () => job.start(),
        async stop() {
          await job.stop();
          await push.close();
          await hooks?.close();
        },
      };
    }
    case 'api': {
      const api = buildApi(
        {
          apiKey: apiKey ?? config.apiKey,
          tokenTtlMs: config.tokenTtlMs,
          topicPrefix: config.topicPrefix,
          limits: apiLimits(config),
          // Built here, in every mode that runs an api: the standalone and `mqim api` serve the
          // same page from the same sources.
          web: { page: buildWebAssets(), gateUrls: listOf(config.webGateUrl) },
          ...apiSendOptions(config),
          version: VERSION,
        },
        { store: needStore(), cache, metrics, logger, bus, health: deps.health },
      );
      return {
        role,
        features: ['api', 'kick', 'web', 'send-api'],
        api,
        start: async () => {
          await api.listen({ host: config.apiHost, port: config.apiPort });
        },
        stop: () => api.close(),
      };
    }
  }
}
