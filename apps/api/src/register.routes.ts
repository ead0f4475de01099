import type { FastifyInstance } from 'fastify';
import { CimErrorCode } from '@mqim/protocol';
import { UserAlreadyExistsError, type Store } from '@mqim/store';

const MD5_HEX = /^[0-9a-f]{32}$/;

/**
 * CoffeeChat's `POST /user/register`, both body shapes. Replies are JSON *text* with
 * Content-Type text/plain: the Flutter client parses the body itself and breaks on
 * application/json. Status is 200 whatever the outcome; error_code carries it.
 */
export function registerCompatRoutes(app: FastifyInstance, store: Store): void {
  app.post('/user/register', async (req, reply) => {
    reply.type('text/plain; charset=utf-8');
    const body = (req.body ?? {}) as Record<string, unknown>;
    const legacy = 'user_id' in body || 'user_token' in body;
    const ok = legacy ? 0 : 200;
    const answer = (code: number, msg: string) => JSON.stringify({ error_code: code, error_msg: msg });
    try {
      if (legacy) {
        const userId = Number(body.user_id);
        const nick = body.user_nick_name;
        const token = body.user_token;
        if (
          !Number.isSafeInteger(userId) ||
          userId <= 0 ||
          typeof nick !== 'string' ||
          !nick ||
          nick.length > 64 ||
          typeof token !== 'string' ||
          token.length < 8 ||
          token.length > 256
        )
          return answer(CimErrorCode.USER_INVALID_PARAMETER, 'invalid parameter');
        await store.users.create({ userId, nickName: nick });
        await store.tokens.issue(userId, token);
        return answer(ok, 'success');
      }
      const { userName, userNickName, userPwd } = body;
      if (
        typeof userName !== 'string' ||
        !/^[\w.@-]{1,64}$/.test(userName) ||
        typeof userPwd !== 'string' ||
        !MD5_HEX.test(userPwd) ||
        (userNickName !== undefined && (typeof userNickName !== 'string' || userNickName.length > 64))
      )
        return answer(CimErrorCode.USER_INVALID_PARAMETER, 'invalid parameter');
      await store.users.create({
        userName,
        nickName: (userNickName as string | undefined) || userName,
        passwordMd5: userPwd,
      });
      return answer(ok, 'success');
    } catch (err) {
      if (err instanceof UserAlreadyExistsError)
        return answer(CimErrorCode.USER_ALREADY_EXIST, 'user already exists');
      throw err;
    }
  });
}
