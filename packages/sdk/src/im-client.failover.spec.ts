import { createServer, type AddressInfo } from 'node:net';
import { CommandId, ImErrorNumber, KickOutReason, decodeBody } from '@mqim/protocol';
import { createImClient } from './index';
import type { ImClient, ImClientOptions } from './im.client';
import type { ImMessage } from './im.types';
import { ALICE, BOB, CAROL, FakeImServer, nextEvent, until, type FakeConnection } from './testing';

/** A port nothing listens on: a gate that is down. */
async function deadUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return `tcp://127.0.0.1:${port}`;
}

const FAST = { initialDelayMs: 5, maxDelayMs: 50, jitter: 0 };

/** Gate A tells its connections to leave (0x0801 SERVER_SHUTDOWN), then closes them. */
function drain(conns: FakeConnection[], closeAfterMs = 0): void {
  for (const c of conns)
    c.write(CommandId.KICK_OUT_NOTIFY, c.nextServerSeq(), {
      reason: KickOutReason.SERVER_SHUTDOWN,
      text: 'server shutting down',
    });
  setTimeout(() => conns.forEach((c) => c.end()), closeAfterMs);
}

describe('ImClient with several gates - failover, sync, exactly-once delivery', () => {
  // Two fakes on one store: two gates of one cluster (TCP and WebSocket), each pushing only to
  // its own connections, so what is sent to a user on the other gate is "missed" until a sync.
  let a: FakeImServer;
  let b: FakeImServer;
  const clients: ImClient[] = [];
  const client = (url: string | string[], opts: Partial<ImClientOptions> = {}) => {
    const c = createImClient({ url, requestTimeoutMs: 2000, heartbeatMs: 0, reconnect: FAST, ...opts });
    clients.push(c);
    return c;
  };
  const texts = (ms: ImMessage[]) => ms.map((m) => m.text);

  beforeEach(async () => {
    a = await FakeImServer.start({ users: [ALICE, BOB, CAROL] });
    b = await FakeImServer.start({ transport: 'ws', store: a.store });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await Promise.all([a.close(), b.close()]);
  });

  it('failover - after SERVER_SHUTDOWN the client moves to the next gate, logs in again and gets what it missed once, in order', async () => {
    const alice = client([a.url, b.url]);
    const got: ImMessage[] = [];
    alice.on('message', (m) => got.push(m));
    await alice.loginWithToken(ALICE.userId, ALICE.token!);
    const carol = client(a.url, { reconnect: false });
    await carol.loginWithToken(CAROL.userId, CAROL.token!);
    const bob = client(b.url, { reconnect: false });
    await bob.loginWithToken(BOB.userId, BOB.token!);

    await carol.send({ to: ALICE.userId, text: 'c1' }); // pushed on gate A
    await until(() => got.length === 1, 2000, 'c1 pushed');
    await alice.send({ to: BOB.userId, text: 'a1' }); // our own: in history, never handed back
    await bob.send({ to: ALICE.userId, text: 'b1' }); // gate B cannot push to alice on A: missed
    await bob.send({ to: ALICE.userId, text: 'b2' });

    const reconnected = nextEvent(alice, 'reconnected');
    drain(a.connectionsOf(ALICE.userId));
    expect(await reconnected).toMatchObject({ url: b.url, synced: 2, attempts: 1 });
    expect(alice.url).toBe(b.url);
    await bob.send({ to: ALICE.userId, text: 'b3' }); // pushed on gate B now
    await until(() => got.length === 4, 2000, 'b3 pushed');
    expect(texts(got)).toEqual(['c1', 'b1', 'b2', 'b3']);
    expect(got.filter((m) => m.fromUserId === BOB.userId).map((m) => m.serverMsgId)).toEqual([2, 3, 4]);
    // The synced messages were receipted like pushed ones.
    const receipts = b.received
      .filter((f) => f.cmd === CommandId.MSG_DATA_ACK && f.userId === ALICE.userId)
      .map((f) => decodeBody(CommandId.MSG_DATA_ACK, f.body).serverMsgId);
    expect(receipts.map(Number)).toEqual([2, 3, 4]);
  });

  it('failover - a message pushed twice reaches the app once', async () => {
    const alice = client(a.url);
    const got: ImMessage[] = [];
    alice.on('message', (m) => got.push(m));
    await alice.loginWithToken(ALICE.userId, ALICE.token!);
    const delivery = {
      fromUserId: BOB.userId,
      toSessionId: ALICE.userId,
      clientMsgId: 'dup-1',
      serverMsgId: 7,
      createTime: 1,
      msgType: 1,
      sessionType: 1,
      msgData: Buffer.from('once'),
    };
    a.push(ALICE.userId, CommandId.MSG_DATA, delivery);
    a.push(ALICE.userId, CommandId.MSG_DATA, delivery);
    a.push(ALICE.userId, CommandId.MSG_DATA, { ...delivery, clientMsgId: 'dup-2', serverMsgId: 8 });
    // A barrier: frames of one connection arrive in order, so once 9 is here a second copy of 7
    // would have been handed over before it.
    a.push(ALICE.userId, CommandId.MSG_DATA, { ...delivery, clientMsgId: 'dup-3', serverMsgId: 9 });
    await until(() => got.some((m) => m.serverMsgId === 9), 2000, 'the barrier message');
    expect(got.map((m) => m.serverMsgId)).toEqual([7, 8, 9]);
  });

  it('failover - after a logout, another user on the same client gets a message whose id the first user had seen', async () => {
    const c = client(a.url);
    const got: ImMessage[] = [];
    c.on('message', (m) => got.push(m));
    const delivery = (to: number, text: string) => ({
      fromUserId: CAROL.userId,
      toSessionId: to,
      clientMsgId: `${to}-${text}`,
      serverMsgId: 7, // ids count per pair of users: alice-carol and bob-carol both reach 7
      createTime: 1,
      msgType: 1,
      sessionType: 1,
      msgData: Buffer.from(text),
    });
    await c.loginWithToken(ALICE.userId, ALICE.token!);
    a.push(ALICE.userId, CommandId.MSG_DATA, delivery(ALICE.userId, 'for alice'));
    await until(() => got.length === 1, 2000, 'alice got hers');
    await c.logout();
    await c.loginWithToken(BOB.userId, BOB.token!);
    a.push(BOB.userId, CommandId.MSG_DATA, delivery(BOB.userId, 'for bob'));
    await until(() => got.length === 2, 2000, 'bob got his (the old ledger took it for a duplicate)');
    expect(texts(got)).toEqual(['for alice', 'for bob']);
  });

  it('failover - a send refused with IM_ERR_BUSY by the draining gate is sent again on the next gate, same clientMsgId', async () => {
    const alice = client([a.url, b.url]);
    await alice.loginWithToken(ALICE.userId, ALICE.token!);
    a.handle(CommandId.MSG_DATA, ({ conn, seq, body }) => {
      // The drain starts just as this send arrives: notice first, then the refusal, then the close.
      const msg = decodeBody(CommandId.MSG_DATA, body);
      drain([conn], 30);
      const ack = { fromUserId: ALICE.userId, toSessionId: BOB.userId, clientMsgId: msg.clientMsgId };
      conn.write(CommandId.MSG_DATA_ACK, seq, { ...ack, serverMsgId: 0, resCode: 0, sessionType: 1 });
      conn.write(CommandId.ERROR_NOTIFY, conn.nextServerSeq(), {
        errorCode: ImErrorNumber.IM_ERR_BUSY,
        errorName: 'IM_ERR_BUSY',
        text: 'server shutting down; resend on another gate',
        requestCmd: CommandId.MSG_DATA,
        requestSeq: seq,
      });
    });
    const sent = await alice.send({ to: BOB.userId, text: 'through the drain', clientMsgId: 'm-busy' });
    expect(sent).toMatchObject({ clientMsgId: 'm-busy', serverMsgId: 1 });
    const sends = (s: FakeImServer) => s.received.filter((f) => f.cmd === CommandId.MSG_DATA).length;
    expect([sends(a), sends(b)]).toEqual([1, 1]);
    expect(a.store.messages).toHaveLength(1);
  });

  it('failover - a send lost with the connection is resent on the next gate; one sent during the drain waits for it', async () => {
    const alice = client([a.url, b.url]);
    await alice.loginWithToken(ALICE.userId, ALICE.token!);
    a.handle(CommandId.MSG_DATA, () => undefined); // in flight when the gate goes
    const lost = alice.send({ to: BOB.userId, text: 'lost', clientMsgId: 'm-lost' });
    await a.waitForFrame((f) => f.cmd === CommandId.MSG_DATA);
    const noticed = nextEvent(alice, 'kickedOut');
    drain(a.connectionsOf(ALICE.userId), 100);
    await noticed; // the notice is read; the connection is still open (in flight: "lost")
    const during = alice.send({ to: BOB.userId, text: 'during', clientMsgId: 'm-during' });
    await expect(lost).resolves.toMatchObject({ clientMsgId: 'm-lost' });
    await expect(during).resolves.toMatchObject({ clientMsgId: 'm-during' });
    // "during" never went to the draining gate.
    const onA = a.received.filter((f) => f.cmd === CommandId.MSG_DATA).map((f) => f.seq);
    expect(onA).toHaveLength(1);
    expect(a.store.messages.map((m) => m.clientMsgId).sort()).toEqual(['m-during', 'm-lost']);
  });

  it('failover - with nothing in flight the client leaves a draining gate at once, not when the gate closes', async () => {
    const alice = client([a.url, b.url]);
    await alice.loginWithToken(ALICE.userId, ALICE.token!);
    const reconnected = nextEvent(alice, 'reconnected', 1000);
    const started = Date.now();
    drain(a.connectionsOf(ALICE.userId), 5000);
    expect(await reconnected).toMatchObject({ url: b.url });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(a.connectionsOf(ALICE.userId)).toHaveLength(0);
  });

  it('failover - a gate that is down is skipped; the backoff grows per round through the list', async () => {
    const alice = client([a.url, await deadUrl(), b.url]);
    await alice.loginWithToken(ALICE.userId, ALICE.token!);
    const attempts: Array<[number, number]> = [];
    alice.on('reconnecting', (i) => attempts.push([i.attempt, i.delayMs]));
    const reconnected = nextEvent(alice, 'reconnected');
    a.dropAll();
    expect(await reconnected).toMatchObject({ url: b.url, attempts: 2 });
    expect(attempts).toEqual([
      [1, 5],
      [2, 5],
    ]);
  });

  it('failover - a send with no gate left fails within its timeout with IM_ERR_NOT_CONNECTED', async () => {
    const alice = client([a.url, await deadUrl()], { requestTimeoutMs: 300 });
    await alice.loginWithToken(ALICE.userId, ALICE.token!);
    await a.close();
    await until(() => alice.state === 'reconnecting', 2000, 'reconnecting');
    const started = Date.now();
    await expect(alice.send({ to: BOB.userId, text: 'nowhere' })).rejects.toMatchObject({
      code: 'IM_ERR_NOT_CONNECTED',
    });
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
