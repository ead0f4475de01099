import { CommandId, KickOutReason, encodeFrame } from '@mqim/protocol';
import { GroupMemberChangeType } from './im.types';
import { ALICE, BOB, nextEvent, startHarness, until, type ClientHarness } from './testing';

describe.each(['tcp', 'ws'] as const)('ImClient over %s - server events and reconnect', (transport) => {
  let h: ClientHarness;
  beforeEach(async () => {
    h = await startHarness({ transport });
  });
  afterEach(() => h.close());

  it('kickedOut - emitted with reason and text, then disconnected', async () => {
    const alice = await h.login(ALICE);
    const kicked = nextEvent(alice, 'kickedOut');
    const disconnected = nextEvent(alice, 'disconnected');
    h.server.push(ALICE.userId, CommandId.KICK_OUT_NOTIFY, {
      reason: KickOutReason.KICKED_BY_ADMIN,
      text: 'bye',
    });
    expect(await kicked).toEqual({ reason: 2, text: 'bye' });
    h.server.connectionsOf(ALICE.userId).forEach((c) => c.end());
    expect(await disconnected).toMatchObject({ willReconnect: false });
  });

  it('serverError - an error notify that names no request in flight', async () => {
    const alice = await h.login(ALICE);
    const error = nextEvent(alice, 'serverError');
    h.server.push(ALICE.userId, CommandId.ERROR_NOTIFY, {
      errorCode: 10104,
      errorName: 'IM_ERR_RATE_LIMITED',
      text: 'too many frames',
      requestCmd: CommandId.MSG_READ_ACK,
      requestSeq: 77,
    });
    expect(await error).toEqual({
      errorCode: 10104,
      errorName: 'IM_ERR_RATE_LIMITED',
      text: 'too many frames',
      requestCmd: CommandId.MSG_READ_ACK,
      requestSeq: 77,
    });
  });

  it('serverError - an error notify naming a pending request rejects it instead', async () => {
    h.server.handle(CommandId.LIST_MSG_REQ, ({ conn, seq }) =>
      conn.write(CommandId.ERROR_NOTIFY, conn.nextServerSeq(), {
        errorCode: 10201,
        errorName: 'IM_ERR_FORBIDDEN',
        text: 'not a member',
        requestCmd: CommandId.LIST_MSG_REQ,
        requestSeq: seq,
      }),
    );
    const alice = await h.login(ALICE);
    await expect(alice.history({ sessionType: 2, sessionId: 5 })).rejects.toMatchObject({
      code: 'IM_ERR_REQUEST_FAILED',
      command: CommandId.LIST_MSG_REQ,
      detail: { errorName: 'IM_ERR_FORBIDDEN' },
    });
  });

  it('groupMemberChanged - decoded with ids as numbers', async () => {
    const alice = await h.login(ALICE);
    const changed = nextEvent(alice, 'groupMemberChanged');
    h.server.push(ALICE.userId, CommandId.GROUP_MEMBER_CHANGED_NOTIFY, {
      userId: 1,
      groupId: 100,
      changedList: [
        { userId: 2, type: 1 },
        { userId: 3, type: 2 },
      ],
    });
    expect(await changed).toEqual({
      groupId: 100,
      userId: 1,
      changes: [
        { userId: 2, type: GroupMemberChangeType.ADD },
        { userId: 3, type: GroupMemberChangeType.DEL },
      ],
    });
  });

  it('warning - an unreadable body is reported and the connection stays up', async () => {
    const alice = await h.login(ALICE);
    const warning = nextEvent(alice, 'warning');
    const [conn] = h.server.connectionsOf(ALICE.userId);
    conn.writeRaw(encodeFrame(CommandId.MSG_DATA, conn.nextServerSeq(), Buffer.from([0xff, 0xff, 0xff])));
    expect((await warning).message).toMatch(/MSG_DATA/);
    await expect(alice.friends()).resolves.toHaveLength(2);
  });

  it('framing - a frame length out of range closes the connection with the reason', async () => {
    const alice = await h.login(ALICE, { maxFrameLength: 1024 });
    const disconnected = nextEvent(alice, 'disconnected');
    const [conn] = h.server.connectionsOf(ALICE.userId);
    conn.writeRaw(encodeFrame(CommandId.MSG_DATA, 1, Buffer.alloc(2000)));
    const info = await disconnected;
    expect(info.willReconnect).toBe(false);
    expect(alice.state).toBe('disconnected');
  });

  it('requests in flight - rejected with IM_ERR_CONNECTION_LOST when the connection drops', async () => {
    h.server.handle(CommandId.FRIEND_QUERY_USER_LIST_REQ, () => undefined);
    const alice = await h.login(ALICE);
    const pending = alice.friends();
    await h.server.waitForFrame((f) => f.cmd === CommandId.FRIEND_QUERY_USER_LIST_REQ);
    h.server.dropAll();
    await expect(pending).rejects.toMatchObject({ code: 'IM_ERR_CONNECTION_LOST' });
    await expect(alice.friends()).rejects.toMatchObject({ code: 'IM_ERR_NOT_CONNECTED' });
  });

  it('reconnect - backs off, logs in again with the same credentials, then emits reconnected', async () => {
    const alice = h.client({ reconnect: { initialDelayMs: 10, jitter: 0 } });
    await alice.loginWithPassword('alice', ALICE.password);
    const events: string[] = [];
    alice.on('disconnected', (i) => events.push(`disconnected:${i.willReconnect}`));
    alice.on('reconnecting', (i) => events.push(`reconnecting:${i.attempt}`));
    const reconnected = nextEvent(alice, 'reconnected');
    h.server.dropAll();
    const info = await reconnected;
    expect(info).toMatchObject({ user: { userId: 1 }, attempts: 1 });
    expect(events).toEqual(['disconnected:true', 'reconnecting:1']);
    expect(alice.state).toBe('loggedIn');
    expect(h.server.received.filter((f) => f.cmd === CommandId.LOGIN_AUTH_REQ)).toHaveLength(2);
    // The new connection counts its seqs from 1 again (capabilities right before the login, the
    // login, the sync's recent sessions), and works.
    const [conn] = h.server.connectionsOf(ALICE.userId);
    await alice.send({ to: BOB.userId, text: 'back' });
    const frames = h.server.received.filter((f) => f.connId === conn.id);
    expect(frames.map((f) => f.seq)).toEqual([1, 2, 3, 4]);
    expect(frames.map((f) => f.cmd).slice(0, 2)).toEqual([
      CommandId.CLIENT_CAPABILITIES_REQ,
      CommandId.LOGIN_AUTH_REQ,
    ]);
  });

  it('reconnect - retries while the server refuses, and the sync hook fetches what was missed', async () => {
    const alice = await h.login(ALICE, { reconnect: { initialDelayMs: 5, maxDelayMs: 20, jitter: 0 } });
    let bobHasSent = false;
    let refused = 0;
    h.server.handle(CommandId.LOGIN_AUTH_TOKEN_REQ, (req) => {
      // A gate that is still starting: it accepts the socket but cannot log anyone in yet.
      if (bobHasSent) {
        h.server.respondByDefault(req);
        return;
      }
      refused++;
      req.conn.destroy();
    });
    const synced = new Promise<number>((resolve) =>
      alice.once('reconnected', () => void alice.recentSessions().then((r) => resolve(r.unreadTotal))),
    );
    h.server.dropAll();
    await until(() => refused >= 2, 2000, 'two refused attempts');
    const bob = h.client();
    await bob.loginWithPassword('bob', BOB.password);
    await bob.send({ to: ALICE.userId, text: 'while you were away' });
    bobHasSent = true;
    expect(await synced).toBe(1);
    expect(alice.state).toBe('loggedIn');
  });

  it('reconnect - gives up when the credentials are refused now', async () => {
    const alice = await h.login(ALICE, { reconnect: { initialDelayMs: 5 } });
    h.server.store.users[0].token = 'rotated';
    const failed = nextEvent(alice, 'reconnectFailed');
    h.server.dropAll();
    expect(await failed).toMatchObject({ code: 'IM_ERR_LOGIN_FAILED', resultCode: 2002 });
    expect(alice.state).toBe('disconnected');
  });

  it('reconnect - gives up after maxAttempts', async () => {
    const alice = await h.login(ALICE, { reconnect: { initialDelayMs: 5, maxAttempts: 2, jitter: 0 } });
    h.server.handle(CommandId.LOGIN_AUTH_TOKEN_REQ, ({ conn }) => conn.destroy());
    const attempts: number[] = [];
    alice.on('reconnecting', (i) => attempts.push(i.attempt));
    const failed = nextEvent(alice, 'reconnectFailed');
    h.server.dropAll();
    expect(await failed).toMatchObject({ code: 'IM_ERR_NOT_CONNECTED' });
    expect(attempts).toEqual([1, 2]);
  });

  it('reconnect - not after a kick-out for logging in elsewhere', async () => {
    const alice = await h.login(ALICE, { reconnect: { initialDelayMs: 5 } });
    const disconnected = nextEvent(alice, 'disconnected');
    const [conn] = h.server.connectionsOf(ALICE.userId);
    conn.write(CommandId.KICK_OUT_NOTIFY, conn.nextServerSeq(), {
      reason: KickOutReason.LOGGED_IN_ELSEWHERE,
      text: '',
    });
    conn.end();
    expect(await disconnected).toMatchObject({ willReconnect: false });
  });

  it.each([
    ['credentials revoked', KickOutReason.CREDENTIALS_REVOKED, false],
    ['a draining gate', KickOutReason.SERVER_SHUTDOWN, true],
  ])('reconnect - after a kick-out for %s (reason %i), reconnects: %s', async (_what, reason, again) => {
    const alice = await h.login(ALICE, { reconnect: { initialDelayMs: 5 } });
    const disconnected = nextEvent(alice, 'disconnected');
    const [conn] = h.server.connectionsOf(ALICE.userId);
    conn.write(CommandId.KICK_OUT_NOTIFY, conn.nextServerSeq(), { reason, text: '' });
    conn.end();
    expect(await disconnected).toMatchObject({ willReconnect: again });
  });

  it('reconnect - close() during the backoff stops it', async () => {
    const alice = await h.login(ALICE, { reconnect: { initialDelayMs: 50 } });
    const reconnecting = nextEvent(alice, 'reconnecting');
    h.server.dropAll();
    await reconnecting;
    await alice.close();
    await new Promise((r) => setTimeout(r, 80));
    expect(h.server.connections).toHaveLength(0);
    expect(alice.state).toBe('closed');
  });
});
