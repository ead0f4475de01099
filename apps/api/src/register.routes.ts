import type { FastifyError, FastifyInstance } from 'fastify';
import type { Cache, RatePolicy } from '@mqim/cache';
import type { Logger } from '@mqim/config';
import { CimErrorCode, ImErrorNumber } from '@mqim/protocol';
import { MAX_EXPLICIT_USER_ID, UserAlreadyExistsError, type Store } from '@mqim/store';
import { nicknameResponse, registerBody, registerResponse } from './api.schemas';

type RegisterBody =
  | { user_id: number | string; user_nick_name: string; user_token: string }
  | { userName: string; userNickName?: string; userPwd: string };

const answer = (code: number, msg: string) => JSON.stringify({ error_code: code, error_msg: msg });

/**
 * CoffeeChat's `POST /user/register`, both body shapes. Replies are JSON *text* with
 * Content-Type text/plain: the Flutter client parses the body itself and breaks on
 * application/json. A registration that is refused for its content (user exists) is 200 with
 * error_code carrying it, as CoffeeChat does; a body of the wrong shape is 400 with
 * error_code 9001, so a client can never take a malformed request for a success.
 */
export function registerCompatRoutes(
  app: FastifyInstance,
  store: Store,
  logger: Logger,
  cache: Cache,
  nicknameQueryRate: RatePolicy = DEFAULT_NICKNAME_QUERY_RATE,
): void {
  app.post(
    '/user/register',
    {
      schema: {
        body: registerBody,
        response: { 200: registerResponse, 400: registerResponse, 500: registerResponse },
      },
      // The legacy reply format for every failure of this route, including the schema's.
      errorHandler: (err: FastifyError, _req, reply) => {
        reply.type('text/plain; charset=utf-8');
        if (err.statusCode && err.statusCode < 500)
          return (
            reply
              // 413 and 415 too: the schema names 400 only, the text body needs no serializer.
              .code(err.statusCode as 400)
              .send(answer(CimErrorCode.USER_INVALID_PARAMETER, `invalid parameter: ${err.message}`))
          );
        logger.error({ err: err.message }, 'register request failed');
        return reply.code(500).send(answer(CimErrorCode.INTERNAL_ERROR, 'internal error'));
      },
    },
    async (req, reply) => {
      reply.type('text/plain; charset=utf-8');
      const body = req.body as RegisterBody;
      try {
        if ('user_token' in body) {
          const userId = Number(body.user_id);
          if (userId > MAX_EXPLICIT_USER_ID) {
            reply.code(400);
            return answer(
              CimErrorCode.USER_INVALID_PARAMETER,
              `user_id must be at most ${MAX_EXPLICIT_USER_ID}`,
            );
          }
          await store.users.create({ userId, nickName: body.user_nick_name });
          await store.tokens.issue(userId, body.user_token);
          return answer(0, 'success');
        }
        await store.users.create({
          userName: body.userName,
          nickName: body.userNickName || body.userName,
          passwordMd5: body.userPwd,
        });
        return answer(200, 'success');
      } catch (err) {
        if (err instanceof UserAlreadyExistsError)
          return answer(CimErrorCode.USER_ALREADY_EXIST, 'user already exists');
        throw err;
      }
    },
  );
  registerNicknameRoutes(app, store, cache, nicknameQueryRate);
}

/** Nickname queries per client address (shared by every api process through the cache). */
export const DEFAULT_NICKNAME_QUERY_RATE: RatePolicy = { perSecond: 5, burst: 50 };

const USER_ID_TEXT = /^[1-9][0-9]{0,15}$/;

/**
 * CoffeeChat's nickname routes, as its Flutter client calls them. Same reply conventions as
 * `/user/register` (JSON text, text/plain): a malformed query is 400 with error_code 9001.
 *
 * - `GET /user/nickname/query?user_id=` → `{error_code: 0, error_msg: "success", nick_name}`;
 *   an unknown user is 200 with error_code 9002 (USER_NOT_EXIST) and an empty nick_name. The route
 *   is public (CoffeeChat's client sends no token with it), so each client address has a token
 *   bucket (`nicknameQueryRate`): beyond it, 429 with error_code 10104 (IM_ERR_RATE_LIMITED) and
 *   nothing read — walking the user ids is paced, not free.
 * - `GET /user/nickname/generate?version=1` → `{error_code: 200, error_msg: "success", nick_name}`,
 *   a random name for the register form (nothing is stored); other versions are refused 9001.
 *   (CoffeeChat answers success with 200 on this route and 0 on the other; its clients expect both.)
 */
function registerNicknameRoutes(app: FastifyInstance, store: Store, cache: Cache, rate: RatePolicy): void {
  const nick = (code: number, msg: string, nickName: string) =>
    JSON.stringify({ error_code: code, error_msg: msg, nick_name: nickName });
  // Query strings are checked in the handlers: a schema failure would answer fastify's JSON shape.
  const schema = { response: { 200: nicknameResponse, 400: nicknameResponse } };
  const querySchema = { response: { ...schema.response, 429: nicknameResponse } };
  app.get('/user/nickname/query', { schema: querySchema }, async (req, reply) => {
    reply.type('text/plain; charset=utf-8');
    if ((await cache.rates.take(`nick-query:${req.ip}`, 1, rate)) < 1) {
      reply.code(429);
      return nick(ImErrorNumber.IM_ERR_RATE_LIMITED, 'too many requests', '');
    }
    const raw = (req.query as Record<string, unknown>).user_id;
    if (typeof raw !== 'string' || !USER_ID_TEXT.test(raw) || !Number.isSafeInteger(Number(raw))) {
      reply.code(400);
      return nick(CimErrorCode.USER_INVALID_PARAMETER, 'invalid user_id', '');
    }
    const user = await store.users.findById(Number(raw));
    if (!user) return nick(CimErrorCode.USER_NOT_EXIST, 'user not exist', '');
    return nick(0, 'success', user.nickName);
  });
  app.get('/user/nickname/generate', { schema }, async (req, reply) => {
    reply.type('text/plain; charset=utf-8');
    const version = (req.query as Record<string, unknown>).version;
    if (version !== '1') {
      reply.code(400);
      return nick(
        CimErrorCode.USER_INVALID_PARAMETER,
        version === undefined ? 'invalid parameters' : 'invalid version',
        '',
      );
    }
    return nick(CimErrorCode.SUCCESS, 'success', randomNickName());
  });
}

const NICK_FIRST = [
  'Quiet',
  'Brave',
  'Sunny',
  'Swift',
  'Lucky',
  'Clever',
  'Gentle',
  'Bright',
  'Calm',
  'Merry',
];
const NICK_LAST = [
  'Otter',
  'Falcon',
  'Maple',
  'River',
  'Comet',
  'Panda',
  'Willow',
  'Harbor',
  'Lynx',
  'Pebble',
];

function randomNickName(): string {
  const pick = (list: readonly string[]) => list[Math.floor(Math.random() * list.length)]!;
  return `${pick(NICK_FIRST)}${pick(NICK_LAST)}${Math.floor(Math.random() * 100)}`;
}
