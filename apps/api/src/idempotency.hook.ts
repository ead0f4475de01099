import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import type { IdempotencyKeys } from '@mqim/cache';
import type { Logger } from '@mqim/config';
import { ApiError } from './api-error';
import { addErrorCodes, IDEMPOTENCY_KEY_PATTERN, idempotencyKeyHeader } from './api.schemas';

export interface IdempotencyOptions {
  /** How long an answered key replays its answer. @default 86400000 (24 h) */
  ttlMs: number;
  /**
   * How long a key stays held by a request that never answers (its process died). Longer than
   * any request may run (the send timeout). @default 120000
   */
  pendingTtlMs: number;
}

/** The answer kept for a key: replayed byte for byte. */
interface StoredAnswer {
  status: number;
  contentType?: string;
  body: string;
}

/**
 * A route's idempotency settings (its `config.idempotency`). `scopeBy`: a body field whose value
 * scopes the keys too (POST /messages: `from`, so two senders may each use "order-123").
 * `keepAnswer: false`: the answer is never kept (it holds a secret, a bearer token): the key is
 * released once answered, so a retry runs again.
 */
export interface IdempotencyRouteConfig {
  scopeBy?: string;
  keepAnswer?: boolean;
}

function routeConfig(req: FastifyRequest): IdempotencyRouteConfig {
  return (req.routeOptions.config as { idempotency?: IdempotencyRouteConfig }).idempotency ?? {};
}

/**
 * The key as stored: scoped by the route (method and path pattern) and, where the route says so, a
 * body field, so one key used on two routes (or by two senders) is two keys.
 */
export function scopedKey(
  method: string,
  route: string,
  key: string,
  scope?: { field: string; value: unknown },
): string {
  const by = scope ? `${scope.field}=${JSON.stringify(scope.value ?? null)}` : '';
  return `${createHash('sha256').update(`${method} ${route}\n${by}`).digest('base64url')}:${key}`;
}

function scopedKeyOf(req: FastifyRequest, key: string): string {
  const { scopeBy } = routeConfig(req);
  const body = req.body as Record<string, unknown> | undefined;
  return scopedKey(
    req.method,
    req.routeOptions.url ?? req.url.split('?')[0]!,
    key,
    scopeBy ? { field: scopeBy, value: body?.[scopeBy] } : undefined,
  );
}

const KEY_RE = new RegExp(IDEMPOTENCY_KEY_PATTERN);
export const REPLAYED_HEADER = 'idempotent-replayed';

/**
 * Answers that are not the request's outcome are not kept, so a retry with the key runs again:
 * a wrong API key, a rate limit, our own failures and timeouts (the request may not have run).
 */
function keepable(status: number): boolean {
  return status < 500 && status !== 401 && status !== 408 && status !== 429;
}

/** Same JSON whatever the key order: `{"a":1,"b":2}` and `{"b":2,"a":1}` are the same request. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value) ?? 'null';
}

/** What makes two requests with one key "the same request": method, path and canonical body. */
export function requestFingerprint(path: string, body: unknown): string {
  return createHash('sha256')
    .update(`POST ${path}\n${canonical(body ?? {})}`)
    .digest('base64url');
}

const claims = new WeakMap<FastifyRequest, { key: string; fingerprint: string }>();

/**
 * `Idempotency-Key` on every POST of the scope it is registered in (docs/api.md): the first request
 * with a key runs and its answer is kept (in the cache: Redis on a cluster, so every api process
 * sees it) for `ttlMs`; a retry with the same key and the same request (method, path, body) gets
 * that answer again, with `idempotent-replayed: true`, without running; the same key with another
 * request is 409 `IM_ERR_DUPLICATE_MISMATCH`; while the first still runs, 409
 * `IM_ERR_IDEMPOTENCY_IN_PROGRESS`. Register before the routes: it adds the header and the two
 * codes to each POST route's schemas, so they are validated and listed in /openapi.json.
 */
export function registerIdempotency(
  api: FastifyInstance,
  keys: IdempotencyKeys,
  options: IdempotencyOptions,
  logger: Logger,
): void {
  api.addHook('onRoute', (route: RouteOptions) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (!methods.includes('POST')) return;
    // Mutated in place: the OpenAPI collector holds this very object.
    const schema = (route.schema ??= {}) as Record<string, unknown>;
    const headers = schema.headers as { properties?: Record<string, unknown> } | undefined;
    if (!headers?.properties?.['idempotency-key'])
      schema.headers = {
        ...(headers ?? { type: 'object' }),
        properties: { ...(headers?.properties ?? {}), ...idempotencyKeyHeader.properties },
      };
    if (schema.response)
      schema.response = addErrorCodes(schema.response as Record<number, object>, 409, [
        'IM_ERR_DUPLICATE_MISMATCH',
        'IM_ERR_IDEMPOTENCY_IN_PROGRESS',
      ]);
  });

  api.addHook('preHandler', async (req: FastifyRequest, reply: FastifyReply) => {
    if (req.method !== 'POST') return;
    const key = req.headers['idempotency-key'];
    if (key === undefined) return;
    if (typeof key !== 'string' || !KEY_RE.test(key))
      throw new ApiError(
        400,
        'IM_ERR_INVALID_ARGUMENT',
        'Idempotency-Key must be 1..64 printable ASCII characters',
      );
    const path = req.url.split('?')[0];
    const fingerprint = requestFingerprint(path!, req.body);
    const scoped = scopedKeyOf(req, key);
    const found = await keys.claim(scoped, fingerprint, options.pendingTtlMs);
    if (found.state === 'claimed') {
      claims.set(req, { key: scoped, fingerprint });
      return;
    }
    if (found.fingerprint !== fingerprint)
      throw new ApiError(
        409,
        'IM_ERR_DUPLICATE_MISMATCH',
        'this Idempotency-Key was used for another request (method, path or body differ)',
      );
    if (found.state === 'pending')
      throw new ApiError(
        409,
        'IM_ERR_IDEMPOTENCY_IN_PROGRESS',
        'the first request with this Idempotency-Key is still running; retry later',
      );
    const answer = JSON.parse(found.response) as StoredAnswer;
    reply.code(answer.status).header(REPLAYED_HEADER, 'true');
    if (answer.contentType) reply.header('content-type', answer.contentType);
    return reply.send(answer.body === '' ? undefined : answer.body);
  });

  api.addHook('onSend', async (req, reply, payload) => {
    const claim = claims.get(req);
    if (!claim) return payload;
    claims.delete(req);
    const status = reply.statusCode;
    try {
      if (
        routeConfig(req).keepAnswer !== false &&
        keepable(status) &&
        (payload === undefined || payload === null || typeof payload === 'string')
      ) {
        const answer: StoredAnswer = {
          status,
          contentType: reply.getHeader('content-type') as string | undefined,
          body: (payload as string | undefined | null) ?? '',
        };
        await keys.complete(claim.key, claim.fingerprint, JSON.stringify(answer), options.ttlMs);
      } else await keys.release(claim.key, claim.fingerprint);
    } catch (err) {
      // The answer still goes out; the key stays pending until pendingTtlMs (a retry then runs).
      logger.warn({ err: (err as Error).message }, 'idempotency key not recorded');
    }
    return payload;
  });
}
