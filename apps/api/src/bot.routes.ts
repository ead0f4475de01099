import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Store } from '@mqim/store';
import { ApiError } from './api-error';
import type { IdempotencyRouteConfig } from './idempotency.hook';
import { botBody, botResponse, botSecretResponse, responses, userIdParams } from './api.schemas';

/** A bot's signing secret: 256 random bits, URL-safe (43 characters). */
function newBotSecret(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * Bots (ADR 0016): a bot is a user with a webhook. Messages users send it in single chats, and
 * every user's message in the groups it is a member of, are POSTed there by the job
 * (`bot_message`, signed with the bot's own secret); it answers through `POST /messages` as
 * itself. Its single chats are CoffeeChat robot sessions (`is_robot_session`).
 *
 * The secret is made here when the bot is created and shown in that answer only; rotating it
 * shows the new one once. The store keeps it as it is (HMAC signing needs the secret itself).
 */
export function registerBotRoutes(api: FastifyInstance, deps: { store: Store }): void {
  const userId = (req: { params: unknown }) => Number((req.params as { id: string }).id);

  api.put(
    '/users/:id/bot',
    {
      schema: {
        params: userIdParams,
        body: botBody,
        response: responses({ 200: botResponse }, { 404: ['IM_ERR_NOT_FOUND'] }),
      },
    },
    async (req) => {
      const id = userId(req);
      if (!(await deps.store.users.findById(id))) throw new ApiError(404, 'IM_ERR_NOT_FOUND', 'no such user');
      const secret = newBotSecret();
      const bot = await deps.store.bots.set(id, (req.body as { webhookUrl: string }).webhookUrl, secret);
      // The store keeps an existing bot's secret: this request created the bot only if the stored
      // secret is the one just made (two concurrent creates: one of them sees it).
      const [stored] = await deps.store.bots.webhooksAmong([id]);
      return stored?.secret === secret ? { ...bot, secret } : bot;
    },
  );

  api.get(
    '/users/:id/bot',
    {
      schema: {
        params: userIdParams,
        response: responses({ 200: botResponse }, { 404: ['IM_ERR_NOT_FOUND'] }),
      },
    },
    async (req) => {
      const bot = await deps.store.bots.get(userId(req));
      if (!bot) throw new ApiError(404, 'IM_ERR_NOT_FOUND', 'this user is not a bot');
      return bot;
    },
  );

  api.post(
    '/users/:id/bot/secret',
    {
      // The answer is a signing secret: never kept for replays (a retry rotates again).
      config: { idempotency: { keepAnswer: false } satisfies IdempotencyRouteConfig },
      schema: {
        params: userIdParams,
        response: responses({ 200: botSecretResponse }, { 404: ['IM_ERR_NOT_FOUND'] }),
      },
    },
    async (req) => {
      const id = userId(req);
      const secret = newBotSecret();
      // The next webhook call is signed with the new secret: the bot should accept both for the
      // few seconds calls already in flight (or in retry) still carry the old one.
      if (!(await deps.store.bots.rotateSecret(id, secret)))
        throw new ApiError(404, 'IM_ERR_NOT_FOUND', 'this user is not a bot');
      return { userId: id, secret };
    },
  );

  api.delete(
    '/users/:id/bot',
    { schema: { params: userIdParams, response: responses({ 204: null }) } },
    async (req, reply) => {
      await deps.store.bots.remove(userId(req));
      reply.code(204);
    },
  );
}
