import Fastify, { type FastifyInstance } from 'fastify';
import type { MessageBus } from '@mqim/bus';
import type { Cache } from '@mqim/cache';
import { MqNames } from '@mqim/protocol';
import type { Logger } from '@mqim/config';
import type { HealthSource, MqimMetrics } from '@mqim/metrics';
import type { Store } from '@mqim/store';
import { registerAdminRoutes } from './admin.routes';
import { ApiError } from './api-error';
import { registerCompatRoutes } from './register.routes';

export interface ApiOptions {
  apiKey: string;
  topicPrefix: string;
  tokenTtlMs: number;
  /** @default 64 KiB */
  bodyLimit?: number;
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
  // Fastify's own logger stays off: errors are logged once, by the error handler, through ours.
  const app = Fastify({ logger: false, bodyLimit: options.bodyLimit ?? 64 * 1024 });
  // CoffeeChat clients post JSON with whatever content type their HTTP library picks.
  app.addContentTypeParser(
    ['text/plain', 'application/x-www-form-urlencoded'],
    { parseAs: 'string' },
    (_req, body, done) => {
      try {
        done(null, body ? JSON.parse(body as string) : {});
      } catch {
        done(null, {});
      }
    },
  );
  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, _req, reply) => {
    if (err instanceof ApiError)
      return reply.code(err.statusCode).send({ error: { code: err.code, message: err.message } });
    if (err.statusCode && err.statusCode < 500)
      return reply
        .code(err.statusCode)
        .send({ error: { code: 'IM_ERR_INVALID_ARGUMENT', message: err.message } });
    deps.logger.error({ err: err.message }, 'api request failed');
    const unavailable = typeof err.code === 'string' && err.code.endsWith('_UNAVAILABLE');
    return reply.code(unavailable ? 503 : 500).send({
      error: {
        code: unavailable ? err.code : 'IM_ERR_INTERNAL',
        message: unavailable ? err.message : 'internal error',
      },
    });
  });
  app.get('/healthz', async (_req, reply) => {
    const problems = await deps.health.check();
    reply.code(problems.length ? 503 : 200);
    return { ok: problems.length === 0, problems };
  });
  app.get('/metrics', async (_req, reply) => {
    reply.type(deps.metrics.registry.contentType);
    return deps.metrics.registry.metrics();
  });
  registerCompatRoutes(app, deps.store);
  registerAdminRoutes(app, { ...deps, names: new MqNames(options.topicPrefix) }, options);
  return app;
}
