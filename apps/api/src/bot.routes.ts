import type { FastifyInstance } from 'fastify';
import type { Store } from '@mqim/store';
import { ApiError } from './api-error';
import { botBody, botResponse, responses, userIdParams } from './api.schemas';

/**
 * Bots (ADR 0016): a bot is a user with a webhook. Messages users send it in single chats are
 * POSTed there by the job (`bot_message`, signed like every mqim webhook); it answers through
 * `POST /messages` as itself. Its chats are CoffeeChat robot sessions (`is_robot_session`).
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
      return deps.store.bots.set(id, (req.body as { webhookUrl: string }).webhookUrl);
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

  api.delete(
    '/users/:id/bot',
    { schema: { params: userIdParams, response: responses({ 204: null }) } },
    async (req, reply) => {
      await deps.store.bots.remove(userId(req));
      reply.code(204);
    },
  );
}
