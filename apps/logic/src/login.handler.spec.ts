import { createHash } from 'node:crypto';
import pino from 'pino';
import type { GatePublisher } from '@mqim/delivery';
import { MemoryCache } from '@mqim/cache';
import { MqimMetrics } from '@mqim/metrics';
import { CIM, CimErrorCode, CommandId, ImErrorNumber, MqNames, mqim } from '@mqim/protocol';
import { createSqliteStore, tokenIdOf, type Store } from '@mqim/store';
import { handleLogin } from './login.handler';
import type { LogicDeps, LoginThrottleOptions } from './logic-deps';
import { RequestContext } from './request-context';

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

const THROTTLE: LoginThrottleOptions = {
  user: { freeFailures: 3, baseBlockMs: 60_000, maxBlockMs: 600_000, windowMs: 600_000 },
  connection: { freeFailures: 5, baseBlockMs: 60_000, maxBlockMs: 600_000, windowMs: 600_000 },
};

describe('logic - login throttling', () => {
  let store: Store;
  let cache: MemoryCache;
  let deps: LogicDeps;
  const replies: mqim.v1.IGateCommand[] = [];

  beforeEach(async () => {
    store = await createSqliteStore({ filename: ':memory:' });
    cache = new MemoryCache();
    replies.length = 0;
    const replier = {
      send: async (_gateId: string, commands: readonly mqim.v1.IGateCommand[]) => {
        replies.push(...commands);
      },
    } as unknown as GatePublisher;
    deps = {
      store,
      cache,
      replier,
      metrics: new MqimMetrics({ defaultMetrics: false }),
      logger: pino({ level: 'silent' }),
      names: new MqNames('t'),
      options: {
        topicPrefix: 't',
        historyLimitMax: 100,
        maxMsgDataBytes: 1024,
        loginPolicy: 'many',
        loginThrottle: THROTTLE,
      },
    } as unknown as LogicDeps;
    await store.users.create({ userName: 'alice', passwordMd5: md5('right') });
  });
  afterEach(async () => {
    await cache.close();
    await store.close();
  });

  async function passwordLogin(userName: string, password: string, connId = 'c1', clientAddress = '') {
    const body = CIM.Login.CIMAuthReq.encode({ userName, userPwd: md5(password), clientType: 1 }).finish();
    const req = mqim.v1.UpstreamRequest.create({
      gateId: 'g1',
      connId,
      clientAddress,
      cmd: CommandId.LOGIN_AUTH_REQ,
      seq: 1,
      body,
    });
    replies.length = 0;
    await handleLogin(deps, new RequestContext(req, 0, deps.replier));
    const last = replies.at(-1)!;
    const rsp = CIM.Login.CIMAuthTokenRsp.decode(last.body!);
    return {
      code: rsp.resultCode as number,
      text: rsp.resultString,
      loggedIn: last.action === mqim.v1.GateAction.GATE_ACTION_LOGIN_OK,
    };
  }

  it('login - after the free failures a user is refused unchecked with IM_ERR_LOGIN_THROTTLED, even with the right password', async () => {
    for (let i = 0; i < 3; i++) {
      expect(await passwordLogin('alice', `guess${i}`, `c${i}`)).toMatchObject({
        code: CimErrorCode.LOGIN_INVALID_USER_OR_PWD,
      });
    }
    // The 4th checked guess is counted and starts the backoff.
    expect((await passwordLogin('alice', 'guess3', 'c3')).code).toBe(CimErrorCode.LOGIN_INVALID_USER_OR_PWD);
    const blocked = await passwordLogin('alice', 'right', 'c4');
    expect(blocked).toMatchObject({ code: ImErrorNumber.IM_ERR_LOGIN_THROTTLED, loggedIn: false });
    expect(blocked.text).toMatch(/retry in 60 s/);
    // Case does not open a second budget: names are one name ignoring case.
    expect((await passwordLogin('ALICE', 'right', 'c5')).code).toBe(ImErrorNumber.IM_ERR_LOGIN_THROTTLED);
    // Other users are not affected.
    await store.users.create({ userName: 'bob', passwordMd5: md5('pw') });
    expect(await passwordLogin('bob', 'pw', 'c6')).toMatchObject({
      code: CimErrorCode.SUCCESS,
      loggedIn: true,
    });
  });

  it('login - one connection spraying many user names is throttled', async () => {
    for (let i = 0; i < 6; i++) {
      expect((await passwordLogin(`nobody${i}`, 'x', 'spray')).code).toBe(
        CimErrorCode.LOGIN_INVALID_USER_OR_PWD,
      );
    }
    expect((await passwordLogin('alice', 'right', 'spray')).code).toBe(ImErrorNumber.IM_ERR_LOGIN_THROTTLED);
    expect((await passwordLogin('alice', 'right', 'fresh')).loggedIn).toBe(true);
  });

  it('login - a successful login clears the user counter', async () => {
    for (let i = 0; i < 3; i++) await passwordLogin('alice', `guess${i}`, `c${i}`);
    expect((await passwordLogin('alice', 'right', 'c9')).loggedIn).toBe(true);
    for (let i = 0; i < 3; i++) {
      expect((await passwordLogin('alice', `again${i}`, `d${i}`)).code).toBe(
        CimErrorCode.LOGIN_INVALID_USER_OR_PWD,
      );
    }
  });

  it('login - a token login tells the gate which token it used (its id, never the token); a password login none', async () => {
    const user = await store.users.create({ userName: 'tokie', passwordMd5: md5('pw') });
    await store.tokens.issue(user.userId, 'device-token-1');
    const body = CIM.Login.CIMAuthTokenReq.encode({
      userId: user.userId,
      userToken: 'device-token-1',
      clientType: 1,
    }).finish();
    const req = mqim.v1.UpstreamRequest.create({
      gateId: 'g1',
      connId: 'tk1',
      cmd: CommandId.LOGIN_AUTH_TOKEN_REQ,
      seq: 1,
      body,
    });
    replies.length = 0;
    await handleLogin(deps, new RequestContext(req, 0, deps.replier));
    expect(replies.at(-1)).toMatchObject({
      action: mqim.v1.GateAction.GATE_ACTION_LOGIN_OK,
      tokenId: tokenIdOf('device-token-1'),
    });
    expect(JSON.stringify(replies)).not.toContain('device-token-1');
    expect((await passwordLogin('tokie', 'pw', 'tk2')).loggedIn).toBe(true);
    expect(replies.at(-1)!.tokenId ?? '').toBe('');
  });

  it('login - token logins are throttled per user id', async () => {
    const user = await store.users.create({ nickName: 't' });
    await store.tokens.issue(user.userId, 'the-right-token');
    const tokenLogin = async (token: string, connId: string) => {
      const body = CIM.Login.CIMAuthTokenReq.encode({
        userId: user.userId,
        userToken: token,
        clientType: 1,
      }).finish();
      const req = mqim.v1.UpstreamRequest.create({
        gateId: 'g1',
        connId,
        cmd: CommandId.LOGIN_AUTH_TOKEN_REQ,
        seq: 1,
        body,
      });
      replies.length = 0;
      await handleLogin(deps, new RequestContext(req, 0, deps.replier));
      return CIM.Login.CIMAuthTokenRsp.decode(replies.at(-1)!.body!).resultCode as number;
    };
    for (let i = 0; i < 4; i++)
      expect(await tokenLogin(`wrong-${i}`, `t${i}`)).toBe(CimErrorCode.LOGIN_INVALID_USER_TOKEN);
    expect(await tokenLogin('the-right-token', 't9')).toBe(ImErrorNumber.IM_ERR_LOGIN_THROTTLED);
  });

  it('login - failures are counted per client address across connections and users; other addresses are served', async () => {
    deps.options.loginThrottle = {
      ...THROTTLE,
      address: { freeFailures: 4, baseBlockMs: 60_000, maxBlockMs: 600_000, windowMs: 600_000 },
    };
    await store.users.create({ userName: 'bob', passwordMd5: md5('bobs') });
    // A guesser spreading over users and fresh connections: neither the user nor the connection
    // counter ever reaches its limit, the address one does.
    for (let i = 0; i < 5; i++) {
      const who = i % 2 === 0 ? 'alice' : 'bob';
      expect((await passwordLogin(who, `guess${i}`, `spray${i}`, '203.0.113.7')).code).toBe(
        CimErrorCode.LOGIN_INVALID_USER_OR_PWD,
      );
    }
    expect((await passwordLogin('bob', 'bobs', 'spray9', '203.0.113.7')).code).toBe(
      ImErrorNumber.IM_ERR_LOGIN_THROTTLED,
    );
    expect((await passwordLogin('bob', 'bobs', 'home', '198.51.100.2')).loggedIn).toBe(true);
  });
});
