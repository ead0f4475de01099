import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { mqimSchema, readConfig } from '@mqim/config';
import { createImClient, type ImClient, type ImMessage } from '@mqim/sdk';
import { startStandalone, type Standalone } from '@mqim/composition';
import { waitFor } from '@mqim/testing';
import { startEchoBot, type EchoBot } from './echo-bot';

const KEY = 'k-echo-bot-0123456789';
const SECRET = 'echo-bot-secret-0123';

/** The example bot against a real standalone: a user chats with it from the SDK. */
describe('echo bot example - a bot user answers through the send API', () => {
  let dir: string;
  let server: Standalone;
  let bot: EchoBot;
  let alice: ImClient;
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`http://127.0.0.1:${server.ports.http}/api/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${KEY}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mqim-echo-'));
    server = await startStandalone(
      readConfig(mqimSchema, {
        MQIM_DATA_DIR: dir,
        MQIM_GATE_HOST: '127.0.0.1',
        MQIM_API_HOST: '127.0.0.1',
        MQIM_GATE_TCP_PORT: '0',
        MQIM_GATE_WS_PORT: '0',
        MQIM_API_PORT: '0',
        MQIM_API_KEY: KEY,
        MQIM_HOOK_SECRET: SECRET,
        MQIM_PASSWORD_HASH_COST: '10',
      }),
      pino({ level: 'error' }),
    );
    // Knows no secret yet: the bot's own comes with its registration (below).
    bot = await startEchoBot({
      port: 0,
      apiUrl: `http://127.0.0.1:${server.ports.http}`,
      apiKey: KEY,
    });
  });
  afterAll(async () => {
    await alice?.close();
    await bot?.close();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('echo bot - a message to the bot is answered in the same chat, once; the chat is a robot session; unflagging it', async () => {
    const botUser = await api('POST', '/users', { userName: 'echo', nickName: 'Echo' });
    const aliceUser = await api('POST', '/users', { userName: 'alice', password: 'pw-alice' });
    const flagged = await api('PUT', `/users/${botUser.body.userId}/bot`, { webhookUrl: bot.url });
    expect(flagged).toMatchObject({
      status: 200,
      body: { userId: botUser.body.userId, webhookUrl: bot.url, hasOwnSecret: true },
    });
    // Its own secret, not the deployment's MQIM_HOOK_SECRET: the bot verifies with it alone.
    expect(flagged.body.secret).toEqual(expect.any(String));
    expect(flagged.body.secret).not.toBe(SECRET);
    bot.useSecret(flagged.body.secret);

    alice = createImClient({ url: `tcp://127.0.0.1:${server.ports.tcp}`, requestTimeoutMs: 10_000 });
    const box: ImMessage[] = [];
    alice.on('message', (m) => box.push(m));
    await alice.connect();
    const login = await alice.loginWithPassword('alice', 'pw-alice');
    expect(login.user.userId).toBe(aliceUser.body.userId);

    await alice.send({ to: botUser.body.userId, sessionType: 1, text: 'hello bot' });
    await waitFor(() => box.some((m) => m.fromUserId === botUser.body.userId), {
      timeoutMs: 20_000,
      message: 'the echo bot answered',
    });
    expect(box.filter((m) => m.fromUserId === botUser.body.userId).map((m) => m.text)).toEqual([
      'echo: hello bot',
    ]);
    const recent = await alice.recentSessions();
    const chat = recent.sessions.find((s) => s.sessionId === botUser.body.userId);
    expect(chat).toMatchObject({ isRobot: true });

    expect(bot.refused).toBe(0);

    // Unflagged, it is a plain user again.
    expect((await api('DELETE', `/users/${botUser.body.userId}/bot`)).status).toBe(204);
    expect((await api('GET', `/users/${botUser.body.userId}/bot`)).status).toBe(404);
  });

  it('echo bot in a group - two bots in a group each answer a user once, in the group; neither answers the other', async () => {
    const other = await startEchoBot({
      port: 0,
      apiUrl: `http://127.0.0.1:${server.ports.http}`,
      apiKey: KEY,
    });
    try {
      const echoA = (await api('POST', '/users', { userName: 'echo-a' })).body.userId as number;
      const echoB = (await api('POST', '/users', { userName: 'echo-b' })).body.userId as number;
      const bob = (await api('POST', '/users', { userName: 'bob', password: 'pw-bob' })).body
        .userId as number;
      const a = await api('PUT', `/users/${echoA}/bot`, { webhookUrl: bot.url });
      const b = await api('PUT', `/users/${echoB}/bot`, { webhookUrl: other.url });
      bot.useSecret(a.body.secret);
      other.useSecret(b.body.secret);
      const alice = (await api('POST', '/users', { userName: 'alice-g', password: 'pw' })).body
        .userId as number;
      const group = await api('POST', '/groups', {
        owner: alice,
        name: 'with bots',
        members: [bob, echoA, echoB],
      });
      expect(group.status).toBe(201);
      const groupId = group.body.groupId as number;

      const bobClient = createImClient({
        url: `tcp://127.0.0.1:${server.ports.tcp}`,
        requestTimeoutMs: 10_000,
      });
      const box: ImMessage[] = [];
      bobClient.on('message', (m) => box.push(m));
      try {
        await bobClient.connect();
        await bobClient.loginWithPassword('bob', 'pw-bob');
        const echoes = () =>
          box.filter((m) => m.sessionType === 2 && m.toSessionId === groupId && m.fromUserId !== bob);
        await bobClient.send({ to: groupId, sessionType: 2, text: 'hi bots' });
        await waitFor(() => echoes().length >= 2, {
          timeoutMs: 20_000,
          message: 'both bots answered in the group',
        });
        // A second message and its answers: by then a bot answering the other bot would have.
        await bobClient.send({ to: groupId, sessionType: 2, text: 'again' });
        await waitFor(() => echoes().length >= 4, { timeoutMs: 20_000, message: 'both bots answered again' });
        expect(
          echoes()
            .map((m) => [m.fromUserId, m.text])
            .sort(),
        ).toEqual(
          [
            [echoA, 'echo: again'],
            [echoA, 'echo: hi bots'],
            [echoB, 'echo: again'],
            [echoB, 'echo: hi bots'],
          ].sort(),
        );
        expect(other.refused).toBe(0);
      } finally {
        await bobClient.close();
      }
    } finally {
      await other.close();
    }
  });
});
