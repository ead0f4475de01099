import { CIM, CimErrorCode, CommandId, mqim, toId } from '@mqim/protocol';
import type { UserRecord } from '@mqim/store';
import type { LogicDeps } from './logic-deps';
import type { RequestContext } from './request-context';
import { toUserInfo } from './mappers';
import { displacedBy, kickRoutes, KickOutReason } from './kick';

/**
 * 0x0101 (user id + token) and 0x0107 (user name + MD5 password). A failed login answers
 * 2002/2003 and leaves the connection open for a retry (the gate's login timer still runs).
 */
export async function handleLogin(deps: LogicDeps, ctx: RequestContext): Promise<void> {
  const byToken = ctx.req.cmd === CommandId.LOGIN_AUTH_TOKEN_REQ;
  const rspCmd = byToken ? CommandId.LOGIN_AUTH_TOKEN_RSP : CommandId.LOGIN_AUTH_RSP;
  let user: UserRecord | null = null;
  let clientType = 0;
  let failCode: number = byToken
    ? CimErrorCode.LOGIN_INVALID_USER_TOKEN
    : CimErrorCode.LOGIN_INVALID_USER_OR_PWD;
  let failText = byToken ? 'invalid user id or token' : 'invalid user name or password';
  try {
    if (byToken) {
      const req = CIM.Login.CIMAuthTokenReq.decode(ctx.req.body);
      clientType = req.clientType;
      const userId = toId(req.userId, 'user_id');
      // An empty token never logs anyone in, whatever the store holds.
      if (userId > 0 && req.userToken.length > 0 && (await deps.store.tokens.verify(userId, req.userToken))) {
        user = await deps.store.users.findById(userId);
      }
    } else {
      const req = CIM.Login.CIMAuthReq.decode(ctx.req.body);
      clientType = req.clientType;
      if (req.userName && /^[0-9a-fA-F]{32}$/.test(req.userPwd)) {
        user = await deps.store.users.verifyPassword(req.userName, req.userPwd.toLowerCase());
      }
    }
  } catch (err) {
    if (!isClientError(err)) throw err;
    failCode = CimErrorCode.USER_INVALID_PARAMETER;
    failText = 'malformed login request';
  }
  const now = Math.floor(Date.now() / 1000);
  if (!user) {
    deps.metrics.errors.inc({ code: 'IM_ERR_LOGIN_FAILED' });
    const rsp = CIM.Login.CIMAuthTokenRsp.encode({
      serverTime: now,
      resultCode: failCode,
      resultString: failText,
    }).finish();
    await ctx.reply(rspCmd, rsp);
    return;
  }
  const rsp = CIM.Login.CIMAuthTokenRsp.encode({
    serverTime: now,
    resultCode: CimErrorCode.SUCCESS,
    resultString: 'success',
    userInfo: toUserInfo(user),
  }).finish();
  // Login policy: displaced devices get a kick-out notice and are closed. Two logins racing on
  // different gates may both survive under 'single'; the next login settles it.
  if (deps.options.loginPolicy !== 'many') {
    const existing = (await deps.cache.routes.lookup([user.userId])).get(user.userId) ?? [];
    const displaced = displacedBy(deps.options.loginPolicy, existing, ctx.connId, clientType);
    if (displaced.length)
      await kickRoutes(
        deps.bus,
        deps.names,
        displaced,
        KickOutReason.LOGGED_IN_ELSEWHERE,
        'logged in on another device',
      );
  }
  await deps.replier.send(ctx.gateId, [
    {
      action: mqim.v1.GateAction.GATE_ACTION_LOGIN_OK,
      connId: ctx.connId,
      userId: user.userId,
      clientType,
      cmd: rspCmd,
      seq: ctx.seq,
      body: rsp,
    },
  ]);
}

export function isClientError(err: unknown): boolean {
  if (err instanceof RangeError || err instanceof TypeError) return true;
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && (code === 'IM_ERR_ID_OUT_OF_RANGE' || code === 'IM_ERR_BAD_BODY');
}
