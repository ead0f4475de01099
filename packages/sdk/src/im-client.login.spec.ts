import { CommandId, decodeBody } from '@mqim/protocol';
import { ImLoginFailedError } from './im.errors';
import { ALICE, startHarness, until, type ClientHarness } from './testing';

describe.each(['tcp', 'ws'] as const)('ImClient over %s - connection and login', (transport) => {
  let h: ClientHarness;
  beforeEach(async () => {
    h = await startHarness({ transport });
  });
  afterEach(() => h.close());

  it('login with token - resolves with the user, ids as numbers', async () => {
    const client = h.client();
    const result = await client.loginWithToken(ALICE.userId, ALICE.token!);
    expect(result.user).toMatchObject({ userId: 1, nickName: 'Alice' });
    expect(typeof result.serverTime).toBe('number');
    expect(client.state).toBe('loggedIn');
    expect(client.user?.userId).toBe(1);
  });

  it('login with token - a bad token rejects with 2002 and leaves the connection open for a retry', async () => {
    const client = h.client();
    const failure = await client.loginWithToken(ALICE.userId, 'wrong').catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ImLoginFailedError);
    expect(failure).toMatchObject({ code: 'IM_ERR_LOGIN_FAILED', resultCode: 2002 });
    expect(client.state).toBe('connected');
    await client.loginWithToken(ALICE.userId, ALICE.token!);
    expect(h.server.connections).toHaveLength(1);
  });

  it('login with password - sends the MD5; plain or pre-hashed both work', async () => {
    const plain = h.client();
    await plain.loginWithPassword('alice', ALICE.password);
    const req = await h.server.waitForFrame((f) => f.cmd === CommandId.LOGIN_AUTH_REQ);
    const body = decodeBody(CommandId.LOGIN_AUTH_REQ, req.body);
    expect(body.userPwd).toMatch(/^[0-9a-f]{32}$/);
    const hashed = h.client();
    await expect(hashed.loginWithPassword('alice', body.userPwd)).resolves.toMatchObject({
      user: { userId: 1 },
    });
  });

  it('login with password - a bad password rejects with 2003', async () => {
    await expect(h.client().loginWithPassword('alice', 'nope')).rejects.toMatchObject({
      code: 'IM_ERR_LOGIN_FAILED',
      resultCode: 2003,
    });
  });

  it('requests - refused locally before connecting and before login', async () => {
    const client = h.client();
    await expect(client.friends()).rejects.toMatchObject({ code: 'IM_ERR_NOT_CONNECTED' });
    await client.connect();
    await expect(client.friends()).rejects.toMatchObject({ code: 'IM_ERR_NOT_LOGGED_IN' });
    // Nothing reached the server: it would have closed the connection.
    expect(h.server.received).toHaveLength(0);
  });

  it('connect - an unreachable server rejects with IM_ERR_CONNECT_FAILED', async () => {
    const url = h.server.url;
    await h.server.close();
    const client = h.client({ url, connectTimeoutMs: 1000 });
    await expect(client.connect()).rejects.toMatchObject({ code: 'IM_ERR_CONNECT_FAILED' });
    expect(client.state).toBe('disconnected');
  });

  it('heartbeat - sends 0x0105 every heartbeatMs once logged in', async () => {
    await h.login(ALICE, { heartbeatMs: 30 });
    const beats = (): number => h.server.received.filter((f) => f.cmd === CommandId.LOGIN_HEARTBEAT).length;
    await h.server.waitForFrame((f) => f.cmd === CommandId.LOGIN_HEARTBEAT);
    const first = beats();
    await until(() => beats() > first, 2000, 'a second heartbeat');
  });

  it('heartbeat - a server that goes silent is dropped after idleTimeoutMs', async () => {
    h.server.handle(CommandId.LOGIN_HEARTBEAT, () => undefined);
    const client = await h.login(ALICE, { heartbeatMs: 20, idleTimeoutMs: 80 });
    const info = await new Promise<{ reason: string }>((resolve) => client.once('disconnected', resolve));
    expect(info.reason).toMatch(/nothing from the server/);
    expect(client.state).toBe('disconnected');
  });

  it('logout - answered, then the connection closes without reconnecting', async () => {
    const client = await h.login(ALICE, { reconnect: { initialDelayMs: 10 } });
    const disconnected = new Promise<{ willReconnect: boolean }>((resolve) =>
      client.once('disconnected', resolve),
    );
    await client.logout();
    expect((await disconnected).willReconnect).toBe(false);
    expect(client.state).toBe('disconnected');
    expect(client.user).toBeUndefined();
    // The client can log in again.
    await client.loginWithToken(ALICE.userId, ALICE.token!);
    expect(client.state).toBe('loggedIn');
  });

  it('close - rejects requests in flight with IM_ERR_CLOSED and leaves no timer or socket', async () => {
    const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    h.server.handle(CommandId.FRIEND_QUERY_USER_LIST_REQ, () => undefined);
    const client = await h.login(ALICE, { heartbeatMs: 1000, requestTimeoutMs: 60_000 });
    const pending = client.friends();
    await h.server.waitForFrame((f) => f.cmd === CommandId.FRIEND_QUERY_USER_LIST_REQ);
    // Handled before close() rejects it, so the rejection is never unhandled for a moment.
    const refused = expect(pending).rejects.toMatchObject({ code: 'IM_ERR_CLOSED' });
    await client.close();
    await refused;
    expect(client.state).toBe('closed');
    await expect(client.connect()).rejects.toMatchObject({ code: 'IM_ERR_CLOSED' });
    // Other parts of the process (the fake server) may hold a short timer right now: wait for the
    // count to come back. A leaked heartbeat (1 s, repeating) or request timeout (60 s) never does.
    await until(() => timers() <= before, 2000, 'no timer left by the client');
    // The server saw the socket go.
    await until(() => h.server.connections.length === 0, 2000, 'the server to see the socket go');
  });
});
