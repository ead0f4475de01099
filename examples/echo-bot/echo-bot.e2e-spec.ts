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
    bot = await startEchoBot({
      port: 0,
      secret: SECRET,
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
      body: { userId: botUser.body.userId, webhookUrl: bot.url },
    });

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

    // Unflagged, it is a plain user again.
    expect((await api('DELETE', `/users/${botUser.body.userId}/bot`)).status).toBe(204);
    expect((await api('GET', `/users/${botUser.body.userId}/bot`)).status).toBe(404);
  });
});
