import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createImClient, passwordMd5, type ImClient, type ImMessage, type ReadNotify } from '@mqim/sdk';
import { startMqim, waitFor, type MqimProcess } from '@mqim/testing';

const API_KEY = 'e2e-key-0123456789';

interface Server {
  proc: MqimProcess;
  tcp: string;
  ws: string;
  http: string;
}

async function startServer(dataDir: string): Promise<Server> {
  const proc = await startMqim(['standalone'], {
    env: {
      MQIM_DATA_DIR: dataDir,
      MQIM_GATE_HOST: '127.0.0.1',
      MQIM_API_HOST: '127.0.0.1',
      MQIM_GATE_TCP_PORT: '0',
      MQIM_GATE_WS_PORT: '0',
      MQIM_API_PORT: '0',
      MQIM_API_KEY: API_KEY,
      MQIM_RECEIPT_FLUSH: '100ms',
    },
  });
  return {
    proc,
    tcp: `tcp://127.0.0.1:${proc.ready.tcp as number}`,
    ws: `ws://127.0.0.1:${proc.ready.ws as number}/ws`,
    http: `http://127.0.0.1:${proc.ready.http as number}`,
  };
}

async function register(server: Server, userName: string): Promise<void> {
  const res = await fetch(`${server.http}/user/register`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain' },
    body: JSON.stringify({ userName, userNickName: userName.toUpperCase(), userPwd: passwordMd5('secret') }),
  });
  expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
  expect(JSON.parse(await res.text())).toEqual({ error_code: 200, error_msg: 'success' });
}

async function api<T>(server: Server, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${server.http}/api/v1${path}`, {
    method,
    headers: {
      authorization: `Bearer ${API_KEY}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  expect(res.status).toBeLessThan(300);
  return (await res.json()) as T;
}

/** Collects a client's deliveries so tests can wait for what they expect. */
function inbox(client: ImClient): { messages: ImMessage[]; reads: ReadNotify[] } {
  const box = { messages: [] as ImMessage[], reads: [] as ReadNotify[] };
  client.on('message', (m) => box.messages.push(m));
  client.on('readNotify', (r) => box.reads.push(r));
  return box;
}

describe('standalone - one-to-one chat end to end over real sockets', () => {
  let dataDir: string;
  let server: Server;
  const clients: ImClient[] = [];

  const client = async (url: string): Promise<ImClient> => {
    const c = createImClient({ url, requestTimeoutMs: 5000 });
    clients.push(c);
    await c.connect();
    return c;
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'mqim-e2e-'));
    server = await startServer(dataDir);
    for (const name of ['alice', 'bob', 'carol']) await register(server, name);
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await server?.proc.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('chat - TCP and WS users exchange messages with acks, deliveries, receipts and read notifies', async () => {
    const alice = await client(server.tcp);
    const me = await alice.loginWithPassword('alice', 'secret');
    const bob = await client(server.ws);
    // bob logs in by token, issued through the business API
    const bobId = (await api<{ userId: number }>(server, 'GET', `/users/${me.user.userId + 1}`)).userId;
    const { token } = await api<{ token: string }>(server, 'POST', `/users/${bobId}/tokens`);
    await bob.loginWithToken(bobId, token);
    const aliceBox = inbox(alice);
    const bobBox = inbox(bob);

    const sent = await alice.send({ to: bobId, text: 'hi bob' });
    expect(sent.serverMsgId).toBe(1);
    await waitFor(() => bobBox.messages.length === 1, {
      timeoutMs: 5000,
      message: 'bob never got the message',
    });
    expect(bobBox.messages[0]).toMatchObject({
      fromUserId: me.user.userId,
      serverMsgId: 1,
      clientMsgId: sent.clientMsgId,
    });
    expect(Buffer.from(bobBox.messages[0].data).toString()).toBe('hi bob');

    const reply = await bob.send({ to: me.user.userId, text: 'hi alice' });
    expect(reply.serverMsgId).toBe(2); // one counter per user pair, both directions
    await waitFor(() => aliceBox.messages.length === 1, { timeoutMs: 5000 });

    await bob.markRead(1, me.user.userId, reply.serverMsgId);
    await waitFor(() => aliceBox.reads.length === 1, {
      timeoutMs: 5000,
      message: 'alice never got the read notify',
    });
    expect(aliceBox.reads[0]).toMatchObject({ readerId: bobId, msgId: reply.serverMsgId });

    // bob's SDK sent a delivery receipt for message 1; the job flushes it to the store
    await waitFor(
      async () => {
        const r = await fetch(`${server.http}/api/v1/users/${bobId}/receipts/1/${me.user.userId}`, {
          headers: { authorization: `Bearer ${API_KEY}` },
        });
        return r.ok && ((await r.json()) as { deliveredMsgId: number }).deliveredMsgId >= 1;
      },
      { timeoutMs: 5000, message: 'receipt never reached the store' },
    );
  });

  it('offline - a user who was offline finds everything through recent sessions and history', async () => {
    const alice = await client(server.tcp);
    const me = await alice.loginWithPassword('alice', 'secret');
    const carolId = me.user.userId + 2;
    for (let i = 1; i <= 5; i++) await alice.send({ to: carolId, text: `m${i}` });

    const carol = await client(server.ws);
    await carol.loginWithPassword('carol', 'secret');
    const recent = await carol.recentSessions();
    const session = recent.sessions.find((s) => s.sessionId === me.user.userId);
    expect(session).toMatchObject({ sessionType: 1, unreadCount: 5 });
    expect(recent.unreadTotal).toBe(5);

    const newest = await carol.history({ sessionType: 1, sessionId: me.user.userId, limit: 3 });
    expect(newest.map((m) => Buffer.from(m.data).toString())).toEqual(['m3', 'm4', 'm5']);
    const older = await carol.history({
      sessionType: 1,
      sessionId: me.user.userId,
      endMsgId: newest[0].serverMsgId,
      limit: 3,
    });
    expect(older.map((m) => Buffer.from(m.data).toString())).toEqual(['m1', 'm2']);
    const ids = [...older, ...newest].map((m) => m.serverMsgId);
    expect(ids).toEqual([1, 2, 3, 4, 5]); // ascending and gap-free

    // A read ack has no answer (CIM) and runs in the conversation's lane, the query in the user's:
    // the next recentSessions may be handled before it.
    await carol.markRead(1, me.user.userId, 0);
    await waitFor(async () => (await carol.recentSessions()).unreadTotal === 0, {
      timeoutMs: 3000,
      message: 'the unread count went to 0 after markRead',
    });
  });

  it('idempotency - a retry with the same client_msg_id returns the same server_msg_id and stores once', async () => {
    const alice = await client(server.tcp);
    const me = await alice.loginWithPassword('alice', 'secret');
    const bobId = me.user.userId + 1;
    const first = await alice.send({ to: bobId, text: 'once', clientMsgId: 'retry-0001' });
    const again = await alice.send({ to: bobId, text: 'once', clientMsgId: 'retry-0001' });
    expect(again.serverMsgId).toBe(first.serverMsgId);
    const history = await alice.history({ sessionType: 1, sessionId: bobId, limit: 100 });
    expect(history.filter((m) => m.clientMsgId === 'retry-0001')).toHaveLength(1);
  });

  it("multi-device - every device of the recipient and the sender's other devices get the message", async () => {
    const phone = await client(server.tcp);
    const me = await phone.loginWithPassword('alice', 'secret');
    const laptop = await client(server.ws);
    await laptop.loginWithPassword('alice', 'secret');
    const bob1 = await client(server.tcp);
    await bob1.loginWithPassword('bob', 'secret');
    const bob2 = await client(server.ws);
    await bob2.loginWithPassword('bob', 'secret');
    const [pBox, lBox, b1Box, b2Box] = [phone, laptop, bob1, bob2].map(inbox);

    const sent = await phone.send({ to: me.user.userId + 1, text: 'to all devices' });
    const has = (box: { messages: ImMessage[] }) =>
      box.messages.some((m) => m.serverMsgId === sent.serverMsgId);
    await waitFor(() => has(lBox) && has(b1Box) && has(b2Box), {
      timeoutMs: 5000,
      message: 'not every device got it',
    });
    expect(has(pBox)).toBe(false); // the sending connection already has it
  });

  it('restart - history and counters survive a restart; ids are never reused', async () => {
    const alice = await client(server.tcp);
    const me = await alice.loginWithPassword('alice', 'secret');
    const bobId = me.user.userId + 1;
    const before = await alice.send({ to: bobId, text: 'before restart' });
    await alice.close();

    expect(await server.proc.stop()).toBe(0);
    server = await startServer(dataDir);

    const again = await client(server.tcp);
    await again.loginWithPassword('alice', 'secret');
    const after = await again.send({ to: bobId, text: 'after restart' });
    expect(after.serverMsgId).toBe(before.serverMsgId + 1);
    const history = await again.history({ sessionType: 1, sessionId: bobId, limit: 100 });
    const ids = history.map((m) => m.serverMsgId);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(ids.length);
    expect(history.at(-2)?.serverMsgId).toBe(before.serverMsgId);
  });
});
