import { publishKicks } from '@mqim/delivery';
import {
  CIM,
  CimErrorCode,
  CommandId,
  ImErrorNumber,
  isClientFault,
  mqim,
  toId,
  decodeBody,
} from '@mqim/protocol';
import { tokenIdOf, type UserRecord } from '@mqim/store';
import { DEFAULT_LOGIN_THROTTLE, type LogicDeps } from './logic-deps';
import type { RequestContext } from './request-context';
import { toUserInfo } from './mappers';
import { displacedBy, KickOutReason } from './kick';

/**
 * 0x0101 (user id + token) and 0x0107 (user name + MD5 password). A failed login answers
 * 2002/2003 and leaves the connection open for a retry (the gate's login timer still runs).
 *
 * Guessing is throttled (issue 10 #12): failures are counted per user (name, case-insensitive, or
 * id) and per connection in the cache, with exponential backoff. While either is blocked the
 * attempt is refused with IM_ERR_LOGIN_THROTTLED *without being checked*, so a blocked guess
 * learns nothing, and the refusal itself is not counted (backoff grows with checked guesses only).
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
  const throttle = deps.options.loginThrottle ?? DEFAULT_LOGIN_THROTTLE;
  const connKey = `login:conn:${ctx.gateId}/${ctx.connId}`.slice(0, 256);
  let userKey: string | undefined;
  let check: (() => Promise<UserRecord | null>) | undefined;
  // Which token the session logs in with, for the gate to keep with the connection and its route.
  let tokenId = '';
  try {
    if (byToken) {
      const req = decodeBody(CommandId.LOGIN_AUTH_TOKEN_REQ, ctx.req.body);
      clientType = req.clientType;
      const userId = toId(req.userId, 'user_id');
      if (userId > 0) userKey = `login:id:${userId}`;
      tokenId = tokenIdOf(req.userToken);
      // An empty token never logs anyone in, whatever the store holds.
      check = async () =>
        userId > 0 && req.userToken.length > 0 && (await deps.store.tokens.verify(userId, req.userToken))
          ? deps.store.users.findById(userId)
          : null;
    } else {
      const req = decodeBody(CommandId.LOGIN_AUTH_REQ, ctx.req.body);
      clientType = req.clientType;
      // Names are unique ignoring case, so guesses at "Alice" and "alice" count together.
      if (req.userName && req.userName.length <= 64) userKey = `login:name:${req.userName.toLowerCase()}`;
      check = async () =>
        req.userName && /^[0-9a-fA-F]{32}$/.test(req.userPwd)
          ? deps.store.users.verifyPassword(req.userName, req.userPwd.toLowerCase())
          : null;
    }
  } catch (err) {
    if (!isClientFault(err)) throw err;
    failCode = CimErrorCode.USER_INVALID_PARAMETER;
    failText = 'malformed login request';
  }
  const address = ctx.req.clientAddress;
  const addrKey = address && throttle.address ? `login:addr:${address}`.slice(0, 256) : undefined;
  const keys = [...(userKey ? [userKey] : []), connKey, ...(addrKey ? [addrKey] : [])];
  // A checked guess counts against the user, the connection and the address; a request that
  // could not be checked (malformed) only against its connection: it guessed nothing.
  const failChecked = async () => {
    if (userKey) await deps.cache.attempts.fail(userKey, throttle.user);
    await deps.cache.attempts.fail(connKey, throttle.connection);
    if (addrKey) await deps.cache.attempts.fail(addrKey, throttle.address!);
  };
  const waitMs = await deps.cache.attempts.blockedFor(keys);
  if (waitMs > 0) {
    deps.metrics.errors.inc({ code: 'IM_ERR_LOGIN_THROTTLED' });
    failCode = ImErrorNumber.IM_ERR_LOGIN_THROTTLED;
    failText = `too many failed logins; retry in ${Math.ceil(waitMs / 1000)} s`;
  } else if (check) {
    try {
      user = await check();
    } catch (err) {
      // The store refuses values it cannot hold (an oversized name): the client's, not a retry.
      if (!isClientFault(err)) throw err;
      failCode = CimErrorCode.USER_INVALID_PARAMETER;
      failText = 'malformed login request';
    }
    if (user) {
      // The address is shared (NAT): one user's success does not clear others' failures there.
      await Promise.all(keys.filter((k) => k !== addrKey).map((k) => deps.cache.attempts.reset(k)));
    } else {
      await failChecked();
    }
  } else {
    await deps.cache.attempts.fail(connKey, throttle.connection);
  }
  const now = Math.floor(Date.now() / 1000);
  if (!user) {
    if (waitMs <= 0) deps.metrics.errors.inc({ code: 'IM_ERR_LOGIN_FAILED' });
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
      await publishKicks(
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
      tokenId,
    },
  ]);
}
