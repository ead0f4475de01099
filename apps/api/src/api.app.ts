import Fastify, { type FastifyInstance } from 'fastify';
import { RocketMqBus, type MessageBus } from '@mqim/bus';
import type { Cache, RatePolicy } from '@mqim/cache';
import { DEFAULT_LANES, MqNames } from '@mqim/protocol';
import type { Logger } from '@mqim/config';
import { LIVE_PATHS, READY_PATH, readyReport, type HealthSource, type MqimMetrics } from '@mqim/metrics';
import type { Store } from '@mqim/store';
import { registerAdminRoutes } from './admin.routes';
import { consumerLags } from './cluster.status';
import { ApiError } from './api-error';
import { okResponse, readyResponse } from './api.schemas';
import { registerCompatRoutes } from './register.routes';
import { registerWebRoutes, type WebOptions } from './web.routes';
import { OpenApiCollector, renderReference } from './openapi.document';
import { UpstreamClient } from './upstream.client';
import { Broadcaster, type BroadcasterOptions } from './broadcaster';
import { MessageScheduler, type SchedulerOptions } from './message.scheduler';
import {
  clientErrorHandler,
  ConnectionEventLog,
  DEFAULT_SERVER_LIMITS,
  serverOptions,
  type ServerLimits,
} from './server-limits';

export interface ApiOptions {
  apiKey: string;
  topicPrefix: string;
  tokenTtlMs: number;
  /** A second look for sessions of an ended token, this long after it ended. @default 3000 */
  tokenResweepMs?: number;
  /** Shown in the OpenAPI document. @default 'unknown' */
  version?: string;
  /** Body size, timeouts and connection cap of the HTTP server. @default DEFAULT_SERVER_LIMITS */
  limits?: Partial<ServerLimits>;
  /** The web chat at `/`; without it, `/` is 404 as before. */
  web?: WebOptions;
  /**
   * The name logic and job answer this process under (`im-gate-<endpointId>`), for the send API.
   * Unique per api process. @default `api-<pid>`
   */
  endpointId?: string;
  /** Must equal the gates' `MQIM_LANES`. @default DEFAULT_LANES */
  lanes?: number;
  /** How long a send waits for logic's answer before 504. @default 10000 */
  sendTimeoutMs?: number;
  /** Scheduled messages: timer range, scan interval, grace before a late one is fired again. */
  schedule?: Partial<SchedulerOptions>;
  /** Broadcast paging and pacing (broadcaster.ts). */
  broadcast?: Partial<BroadcasterOptions>;
  /** Idempotency-Key expiry of POST requests (docs/api.md). */
  idempotency?: { ttlMs?: number; pendingTtlMs?: number };
  /** Upstream publishes in flight and their pacing (as on a gate). */
  upstreamInFlight?: number;
  mqPaceMs?: number;
  /** The public `GET /user/nickname/query`, per client address. @default DEFAULT_NICKNAME_QUERY_RATE */
  nicknameQueryRate?: RatePolicy;
}

export interface ApiDeps {
  store: Store;
  cache: Cache;
  metrics: MqimMetrics;
  logger: Logger;
  health: HealthSource;
  /** Needed for kick (the api publishes to gates like any role). */
  bus?: MessageBus;
}

/** Builds the HTTP app without listening (tests use `inject()`; `mqim api` calls `listen()`). */
export function buildApi(options: ApiOptions, deps: ApiDeps): FastifyInstance {
  const limits: ServerLimits = { ...DEFAULT_SERVER_LIMITS, ...options.limits };
  const events = new ConnectionEventLog(deps.logger);
  const app = Fastify({
    // Fastify's own logger stays off: errors are logged once, by the error handler, through ours.
    logger: false,
    ...serverOptions(limits, clientErrorHandler(events)),
    // Bodies are checked by each route's JSON schema, as sent: no coercion (" 77 " is not 77,
    // [5] is not 5) and no silent stripping of unknown properties.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false } },
  });
  // First, so that it sees every route registered below.
  const openapi = new OpenApiCollector(options.version ?? 'unknown');
  openapi.attach(app);
  app.server.maxConnections = limits.maxConnections;
  app.server.on('drop', (data?: { remoteAddress?: string }) =>
    events.record('dropped', { remoteAddress: data?.remoteAddress, maxConnections: limits.maxConnections }),
  );
  // With a listener, node leaves idle sockets to us: log, then close.
  app.server.on('timeout', (socket: import('node:net').Socket) => {
    events.record('idle timeout', { remoteAddress: socket.remoteAddress });
    socket.destroy();
  });
  app.addHook('onClose', async () => events.close());
  // A POST without a body (tokens, kick) validates as an empty object, not as "body must be object".
  app.addHook('preValidation', async (req) => {
    if (req.body === undefined && req.method !== 'GET' && req.method !== 'HEAD') req.body = {};
  });
  // CoffeeChat clients post JSON with whatever content type their HTTP library picks.
  app.addContentTypeParser(
    ['text/plain', 'application/x-www-form-urlencoded'],
    { parseAs: 'string' },
    (_req, body, done) => {
      try {
        done(null, body ? JSON.parse(body as string) : {});
      } catch {
        // Not JSON: the route's schema answers 400 for the empty object it becomes.
        done(null, {});
      }
    },
  );
  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, _req, reply) => {
    if (err instanceof ApiError)
      return reply.code(err.statusCode).send({ error: { code: err.code, message: err.message } });
    // A value the store refuses (StoreInvalidArgumentError) is the caller's, as a schema error is.
    if (err.code === 'IM_ERR_INVALID_ARGUMENT')
      return reply.code(400).send({ error: { code: err.code, message: err.message } });
    if (err.statusCode && err.statusCode < 500) {
      const code = err.statusCode === 413 ? 'IM_ERR_PAYLOAD_TOO_LARGE' : 'IM_ERR_INVALID_ARGUMENT';
      return reply.code(err.statusCode).send({ error: { code, message: err.message } });
    }
    deps.logger.error({ err: err.message }, 'api request failed');
    const unavailable = typeof err.code === 'string' && err.code.endsWith('_UNAVAILABLE');
    return reply.code(unavailable ? 503 : 500).send({
      error: {
        code: unavailable ? err.code : 'IM_ERR_INTERNAL',
        message: unavailable ? err.message : 'internal error',
      },
    });
  });
  for (const path of LIVE_PATHS)
    app.get(path, { schema: { response: { 200: okResponse } } }, async () => ({ ok: true }));
  app.get(
    READY_PATH,
    { schema: { response: { 200: readyResponse, 503: readyResponse } } },
    async (_req, reply) => {
      const { status, body } = await readyReport(deps.health);
      reply.code(status as 200 | 503);
      return body;
    },
  );
  const names = new MqNames(options.topicPrefix);
  app.get(
    '/metrics',
    { schema: { response: { 200: { type: 'string', description: 'Prometheus text format' } } } },
    async (_req, reply) => {
      await exportConsumerLag(deps, names);
      reply.type(deps.metrics.registry.contentType);
      return deps.metrics.registry.metrics();
    },
  );
  // The API's own reference, built from the routes' schemas; public, like the register endpoint.
  app.get(
    '/openapi.json',
    { schema: { response: { 200: { type: 'object', description: 'this OpenAPI 3.1 document' } } } },
    async (_req, reply) => reply.type('application/json').send(JSON.stringify(openapi.document())),
  );
  app.get(
    '/docs',
    { schema: { response: { 200: { type: 'string', description: 'the reference page (HTML)' } } } },
    async (_req, reply) => reply.type('text/html; charset=utf-8').send(renderReference(openapi.document())),
  );
  registerCompatRoutes(app, deps.store, deps.logger, deps.cache, options.nicknameQueryRate);
  // The send API's way onto the message path; subscribed before the first request is served.
  const upstream = deps.bus
    ? new UpstreamClient(deps.bus, names, deps.metrics, deps.logger, {
        endpointId: options.endpointId ?? `api-${process.pid}`,
        lanes: options.lanes ?? DEFAULT_LANES,
        timeoutMs: options.sendTimeoutMs,
        maxInFlight: options.upstreamInFlight,
        minIntervalMs: options.mqPaceMs,
      })
    : undefined;
  const scheduler =
    upstream && deps.bus
      ? new MessageScheduler(
          { bus: deps.bus, store: deps.store, names, upstream, logger: deps.logger },
          {
            armWithinMs: options.schedule?.armWithinMs ?? 86_400_000,
            scanMs: options.schedule?.scanMs ?? 1000,
            graceMs: options.schedule?.graceMs ?? 30_000,
          },
        )
      : undefined;
  if (upstream) {
    app.addHook('onReady', async () => {
      await upstream.start();
      await scheduler?.start();
    });
    app.addHook('onClose', async () => {
      await scheduler?.stop();
      await upstream.stop();
    });
  }
  const broadcaster = deps.bus
    ? new Broadcaster(
        { bus: deps.bus, store: deps.store, cache: deps.cache, names, logger: deps.logger },
        {
          pageSize: options.broadcast?.pageSize ?? 1000,
          perSecond: options.broadcast?.perSecond ?? 5000,
          maxQueued: options.broadcast?.maxQueued ?? 16,
        },
      )
    : undefined;
  if (broadcaster) app.addHook('onClose', async () => broadcaster.stop());
  registerAdminRoutes(app, { ...deps, names, upstream, broadcaster, scheduler }, options);
  if (options.web) registerWebRoutes(app, options.web, deps.cache, deps.logger);
  return app;
}

/**
 * Consumer lag as a gauge, read from the broker at scrape time (a few remoting calls per scrape):
 * the api is the one role that always has a bus and is scraped anyway. Groups of live gates only.
 */
async function exportConsumerLag(deps: ApiDeps, names: MqNames): Promise<void> {
  if (!(deps.bus instanceof RocketMqBus)) return;
  try {
    const gates = (await deps.cache.presence.list()).filter((i) => i.role === 'gate').map((i) => i.id);
    const { groups } = await consumerLags({ bus: deps.bus, names }, gates);
    deps.metrics.consumerLag.reset();
    for (const g of groups)
      if (g.lag >= 0) deps.metrics.consumerLag.set({ group: g.group, topic: g.topic }, g.lag);
  } catch (err) {
    deps.logger.warn(
      { err: (err as Error).message },
      'consumer lag not exported: cache or broker unreachable',
    );
  }
}
