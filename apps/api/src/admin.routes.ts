import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { MessageBus } from '@mqim/bus';
import { publishKicks } from '@mqim/delivery';
import type { Cache, Route } from '@mqim/cache';
import { KickOutReason, isSessionType, type MqNames } from '@mqim/protocol';
import type { Logger } from '@mqim/config';
import { UserAlreadyExistsError, tokenIdOf, type PushPlatform, type Store } from '@mqim/store';
import { ApiError } from './api-error';
import { collectClusterStatus } from './cluster.status';
import { registerMessageRoutes } from './message.routes';
import { registerGroupRoutes } from './group.routes';
import { registerBroadcastRoutes } from './broadcast.routes';
import { registerBotRoutes } from './bot.routes';
import { registerScheduleRoutes } from './schedule.routes';
import type { MessageScheduler } from './message.scheduler';
import type { Broadcaster } from './broadcaster';
import {
  registerIdempotency,
  type IdempotencyOptions,
  type IdempotencyRouteConfig,
} from './idempotency.hook';
import type { UpstreamClient } from './upstream.client';
import {
  clusterStatusQuery,
  clusterStatusResponse,
  onlineQuery,
  onlineResponse,
  createUserBody,
  issueTokenBody,
  kickBody,
  muteBody,
  receiptParams,
  registerDeviceBody,
  removeDeviceBody,
  tokenIdParams,
  userIdParams,
  responses,
  userResponse,
  tokenResponse,
  receiptResponse,
  kickResponse,
  userOnlineResponse,
} from './api.schemas';

export interface AdminRoutesOptions {
  apiKey: string;
  tokenTtlMs: number;
  /**
   * After ending a token's sessions, they are looked for once more this much later: a login that
   * was verified just before the token ended may register its route only after the first look.
   * @default 3000
   */
  tokenResweepMs?: number;
  /** Idempotency-Key expiry (answered / held by a running request). */
  idempotency?: Partial<IdempotencyOptions>;
}

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

/**
 * The JSON API for business servers under /api/v1, behind a bearer key. Login tokens are 256-bit
 * random secrets shown once; the store keeps only their hash.
 */
export function registerAdminRoutes(
  app: FastifyInstance,
  deps: {
    store: Store;
    cache: Cache;
    logger: Logger;
    bus?: MessageBus;
    names: MqNames;
    upstream?: UpstreamClient;
    broadcaster?: Broadcaster;
    scheduler?: MessageScheduler;
  },
  options: AdminRoutesOptions,
): void {
  const key = Buffer.from(options.apiKey);

  /** Kick-out notices to the user's connections that `pick` selects, through each gate's topic; how many. */
  const kick = async (
    userId: number,
    reason: KickOutReason,
    text: string,
    pick: (r: Route) => boolean = () => true,
  ): Promise<number> => {
    const routes = ((await deps.cache.routes.lookup([userId])).get(userId) ?? []).filter(pick);
    return publishKicks(deps.bus!, deps.names, routes, reason, text);
  };

  /**
   * Ends the sessions of the user that logged in with a token that no longer verifies (rotated
   * out, revoked, expired), and looks again after `tokenResweepMs` for logins that were in flight.
   * Sessions of the user's live tokens and password sessions stay.
   */
  const resweeps = new Set<NodeJS.Timeout>();
  const endStaleTokenSessions = async (userId: number, text: string): Promise<number> => {
    if (!deps.bus) return 0;
    const sweep = async () => {
      const live = new Set(await deps.store.tokens.liveIds(userId));
      return kick(
        userId,
        KickOutReason.CREDENTIALS_REVOKED,
        text,
        (r) => !!r.tokenId && !live.has(r.tokenId),
      );
    };
    const kicked = await sweep();
    const timer = setTimeout(() => {
      resweeps.delete(timer);
      sweep().catch((err: Error) =>
        app.log.warn({ err: err.message, userId }, 'second look for sessions of ended tokens failed'),
      );
    }, options.tokenResweepMs ?? 3000);
    timer.unref();
    resweeps.add(timer);
    return kicked;
  };
  app.addHook('onClose', async () => {
    for (const t of resweeps) clearTimeout(t);
    resweeps.clear();
  });

  app.register(
    async (api) => {
      api.addHook('onRequest', async (req: FastifyRequest) => {
        const header = req.headers.authorization ?? '';
        const given = Buffer.from(header.startsWith('Bearer ') ? header.slice(7) : '');
        if (given.length !== key.length || !timingSafeEqual(given, key))
          throw new ApiError(401, 'IM_ERR_UNAUTHORIZED', 'missing or wrong API key');
      });

      // Before any route: it adds the Idempotency-Key header to each POST route's schema.
      registerIdempotency(
        api,
        deps.cache.idempotency,
        {
          ttlMs: options.idempotency?.ttlMs ?? 86_400_000,
          pendingTtlMs: options.idempotency?.pendingTtlMs ?? 120_000,
        },
        deps.logger,
      );

      const byId = { params: userIdParams };

      registerMessageRoutes(api, deps);
      registerGroupRoutes(api, deps);
      registerBroadcastRoutes(api, deps);
      registerBotRoutes(api, deps);
      registerScheduleRoutes(api, deps);

      api.post(
        '/users',
        {
          schema: {
            body: createUserBody,
            response: responses({ 201: userResponse }, { 409: ['IM_ERR_USER_EXISTS'] }),
          },
        },
        async (req, reply: FastifyReply) => {
          const b = req.body as {
            userName?: string | null;
            nickName?: string | null;
            password?: string | null;
          };
          const userName = b.userName || undefined;
          const nickName = b.nickName || userName;
          const password = b.password || undefined;
          if (!nickName)
            throw new ApiError(400, 'IM_ERR_INVALID_ARGUMENT', 'nickName or userName is required');
          try {
            const user = await deps.store.users.create({
              userName,
              nickName,
              passwordMd5: password ? md5(password) : undefined,
            });
            reply.code(201);
            return { userId: user.userId, userName: user.userName ?? null, nickName: user.nickName };
          } catch (err) {
            if (err instanceof UserAlreadyExistsError)
              throw new ApiError(409, 'IM_ERR_USER_EXISTS', 'user already exists');
            throw err;
          }
        },
      );

      api.get(
        '/users/:id',
        { schema: { ...byId, response: responses({ 200: userResponse }, { 404: ['IM_ERR_NOT_FOUND'] }) } },
        async (req) => {
          const user = await deps.store.users.findById(userIdParam(req));
          if (!user) throw new ApiError(404, 'IM_ERR_NOT_FOUND', 'no such user');
          return {
            userId: user.userId,
            userName: user.userName ?? null,
            nickName: user.nickName,
            avatarUrl: user.avatarUrl ?? '',
          };
        },
      );

      // Issues a new login token. Rotation is the default: older tokens stop working, and the
      // sessions logged in with them are ended (kick-out CREDENTIALS_REVOKED).
      api.post(
        '/users/:id/tokens',
        {
          // The answer is a bearer token: never kept for replays (a retry issues another).
          config: { idempotency: { keepAnswer: false } satisfies IdempotencyRouteConfig },
          schema: {
            ...byId,
            body: issueTokenBody,
            response: responses({ 201: tokenResponse }, { 404: ['IM_ERR_NOT_FOUND'] }),
          },
        },
        async (req, reply) => {
          const userId = userIdParam(req);
          if (!(await deps.store.users.findById(userId)))
            throw new ApiError(404, 'IM_ERR_NOT_FOUND', 'no such user');
          const keep = (req.body as { keepExisting?: boolean }).keepExisting === true;
          const token = randomBytes(32).toString('base64url');
          const expiresAt = Date.now() + options.tokenTtlMs;
          const ttlSeconds = Math.ceil(options.tokenTtlMs / 1000);
          if (keep) await deps.store.tokens.issue(userId, token, ttlSeconds);
          else {
            await deps.store.tokens.rotate(userId, token, ttlSeconds);
            await endStaleTokenSessions(userId, 'login token rotated; log in with the new token');
          }
          reply.code(201);
          return { userId, token, tokenId: tokenIdOf(token), expiresAt: Math.floor(expiresAt / 1000) };
        },
      );

      // Revokes one token (by the tokenId it was issued with) and ends the sessions logged in
      // with it; the user's other tokens and their sessions stay. Idempotent.
      api.delete(
        '/users/:id/tokens/:tokenId',
        { schema: { params: tokenIdParams, response: responses({ 204: null }) } },
        async (req, reply) => {
          const userId = userIdParam(req);
          const { tokenId } = req.params as { tokenId: string };
          await deps.store.tokens.revokeById(userId, tokenId);
          await endStaleTokenSessions(userId, 'login token revoked; log in again');
          reply.code(204);
        },
      );

      // Revokes every token and ends every session of the user (a session outlives its token
      // otherwise): each connection gets the kick-out notice CREDENTIALS_REVOKED.
      api.delete(
        '/users/:id/tokens',
        { schema: { ...byId, response: responses({ 204: null }) } },
        async (req, reply) => {
          const userId = userIdParam(req);
          await deps.store.tokens.revoke(userId);
          if (deps.bus)
            await kick(userId, KickOutReason.CREDENTIALS_REVOKED, 'login tokens revoked; log in again');
          reply.code(204);
        },
      );

      // Delivered-up-to (client receipts, flushed by the job) and read-up-to (read acks).
      api.get(
        '/users/:id/receipts/:sessionType/:sessionId',
        { schema: { params: receiptParams, response: responses({ 200: receiptResponse }) } },
        async (req) => {
          const userId = userIdParam(req);
          const { sessionType, sessionId } = sessionParams(req);
          const r = await deps.store.receipts.get(userId, sessionType, sessionId);
          return {
            userId,
            sessionType,
            sessionId,
            deliveredMsgId: r?.deliveredMsgId ?? 0,
            deliveredAtMs: r?.deliveredAtMs ?? 0,
            readMsgId: r?.readMsgId ?? 0,
            readAtMs: r?.readAtMs ?? 0,
          };
        },
      );

      // Push tokens of a user's devices (APNs, FCM, or a webhook target).
      api.post(
        '/users/:id/devices',
        { schema: { ...byId, body: registerDeviceBody, response: responses({ 204: null }) } },
        async (req, reply) => {
          const userId = userIdParam(req);
          const b = req.body as { platform: PushPlatform; token: string; clientType?: number };
          await deps.store.devices.register({
            userId,
            platform: b.platform,
            token: b.token,
            clientType: b.clientType ?? 0,
          });
          reply.code(204);
        },
      );

      api.delete(
        '/users/:id/devices',
        { schema: { ...byId, body: removeDeviceBody, response: responses({ 204: null }) } },
        async (req, reply) => {
          const userId = userIdParam(req);
          const b = req.body as { platform: PushPlatform; token: string };
          await deps.store.devices.remove(userId, b.platform, b.token);
          reply.code(204);
        },
      );

      // Muted conversations are never pushed.
      api.put(
        '/users/:id/mutes',
        { schema: { ...byId, body: muteBody, response: responses({ 204: null }) } },
        async (req, reply) => {
          const userId = userIdParam(req);
          const b = req.body as { sessionType: 1 | 2; sessionId: number; muted?: boolean };
          await deps.store.mutes.set(userId, b.sessionType, b.sessionId, b.muted !== false);
          reply.code(204);
        },
      );

      // Closes every connection of the user, or one device (connId), with a kick-out notice.
      api.post(
        '/users/:id/kick',
        { schema: { ...byId, body: kickBody, response: responses({ 200: kickResponse }) } },
        async (req) => {
          if (!deps.bus) throw new ApiError(503, 'IM_ERR_UNAVAILABLE', 'this api process has no message bus');
          const userId = userIdParam(req);
          const connId = (req.body as { connId?: string }).connId;
          const kicked = await kick(
            userId,
            KickOutReason.KICKED_BY_ADMIN,
            'kicked by the administrator',
            (r) => !connId || r.connId === connId,
          );
          return { userId, kicked };
        },
      );

      // The cluster at a glance (what `mqim status` prints): live gates with their connections,
      // logic/job/api processes, dependency reachability, consumer lag per group.
      // ?consumerGroups=a,b adds analytics groups (a data team's) on the analytics topics.
      api.get(
        '/cluster/status',
        { schema: { querystring: clusterStatusQuery, response: responses({ 200: clusterStatusResponse }) } },
        async (req) => {
          const listed = (req.query as { consumerGroups?: string }).consumerGroups;
          return collectClusterStatus({
            ...deps,
            consumerGroups: listed ? [...new Set(listed.split(','))] : [],
          });
        },
      );

      // Online users: how many, and their ids page by page (ascending; `after` = last id seen).
      api.get(
        '/online',
        { schema: { querystring: onlineQuery, response: responses({ 200: onlineResponse }) } },
        async (req) => {
          const q = req.query as { after?: string; limit?: string };
          const limit = Number(q.limit ?? 1000);
          const page = await deps.cache.routes.online(Number(q.after ?? 0), limit);
          // A full page may have a next one (at worst the caller asks once more and gets none).
          const next = page.userIds.length === limit ? page.userIds[limit - 1]! : null;
          return { total: page.total, userIds: page.userIds, next };
        },
      );

      api.get(
        '/users/:id/online',
        { schema: { ...byId, response: responses({ 200: userOnlineResponse }) } },
        async (req) => {
          const userId = userIdParam(req);
          const routes = (await deps.cache.routes.lookup([userId])).get(userId) ?? [];
          return {
            userId,
            online: routes.length > 0,
            devices: routes.map((r) => ({
              gateId: r.gateId,
              connId: r.connId,
              clientType: r.clientType,
              loginAt: r.loginAt,
            })),
          };
        },
      );
    },
    { prefix: '/api/v1' },
  );
}

function userIdParam(req: FastifyRequest): number {
  const raw = (req.params as { id?: string }).id ?? '';
  const id = /^\d{1,16}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(id) || id <= 0)
    throw new ApiError(400, 'IM_ERR_INVALID_ARGUMENT', 'user id must be a positive integer');
  return id;
}

function sessionParams(req: FastifyRequest): { sessionType: 1 | 2; sessionId: number } {
  const p = req.params as { sessionType?: string; sessionId?: string };
  const sessionType = Number(p.sessionType);
  const sessionId = /^\d{1,16}$/.test(p.sessionId ?? '') ? Number(p.sessionId) : NaN;
  if (!isSessionType(sessionType) || !Number.isSafeInteger(sessionId) || sessionId <= 0)
    throw new ApiError(
      400,
      'IM_ERR_INVALID_ARGUMENT',
      'sessionType must be 1 or 2 and sessionId a positive integer',
    );
  return { sessionType, sessionId };
}
