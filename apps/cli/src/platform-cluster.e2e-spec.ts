import Redis from 'ioredis';
import { startFakeWebhook, type FakeWebhook } from '@mqim/push/testing';
import { createImClient, type ImClient, type ImMessage } from '@mqim/sdk';
import {
  describeInfra,
  probeMysql,
  probeRedis,
  probeRocketMq,
  startCluster,
  waitFor,
  type MqimCluster,
} from '@mqim/testing';
import { startEchoBot, type EchoBot } from '../../../examples/echo-bot/echo-bot';

interface Hook {
  id: string;
  event: string;
  data: Record<string, unknown>;
}

/**
 * Issue 13's platform features on the cluster topology: the api, logic and job are processes of
 * their own on RocketMQ, MySQL and Redis, the clients sit on two gates; the business server
 * (observer webhook, echo bot) is this test.
 */
describeInfra(
  'platform (cluster) - idempotency keys in Redis, observer webhooks, broadcasts and a bot across two gates',
  [probeRocketMq(), probeMysql(), probeRedis()],
  () => {
    let cluster: MqimCluster;
    let hook: FakeWebhook;
    let bot: EchoBot;
    const clients: ImClient[] = [];
    const hooks = () => hook.delivered as unknown as Hook[];
    /** Users this file created (the cluster's database is its own). */
    let created = 0;

    const api = async (
      method: string,
      path: string,
      body?: unknown,
      headers: Record<string, string> = {},
    ) => {
      const res = await fetch(`${cluster.api!.url}/api/v1${path}`, {
        method,
        headers: {
          authorization: `Bearer ${cluster.api!.key}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
    };
    const user = async (userName: string): Promise<number> => {
      const r = await api('POST', '/users', { userName, password: 'secret' });
      expect(r.status).toBe(201);
      created++;
      return r.body.userId as number;
    };
    const login = async (userName: string, gate: number) => {
      const c = createImClient({ url: cluster.gates[gate]!.tcp, requestTimeoutMs: 15_000, reconnect: false });
      clients.push(c);
      const box: ImMessage[] = [];
      c.on('message', (m) => box.push(m));
      await c.loginWithPassword(userName, 'secret');
      return { c, box };
    };

    beforeAll(async () => {
      hook = await startFakeWebhook();
      cluster = await startCluster({
        name: 'platform_e2e',
        gates: 2,
        logic: 1,
        jobs: 1,
        env: { MQIM_HOOK_OBSERVER_URL: hook.url, MQIM_HOOK_SECRET: hook.secret },
      });
      bot = await startEchoBot({
        port: 0,
        secret: hook.secret,
        apiUrl: cluster.api!.url,
        apiKey: cluster.api!.key,
      });
    }, 240_000);
    afterAll(async () => {
      await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
      await cluster?.stop();
      await bot?.close();
      await hook?.close();
    }, 60_000);

    it('idempotency - the answer is kept in Redis (any api process sees it) and replayed; another body is 409', async () => {
      const first = await api('POST', '/users', { userName: 'pc-idem' }, { 'idempotency-key': 'pc-key-1' });
      expect(first.status).toBe(201);
      created++;
      const redis = new Redis(probeRedis().url, { maxRetriesPerRequest: 1 });
      try {
        const stored = await redis.get(`${cluster.name}:idem:pc-key-1`);
        expect(stored).toMatch(/^d\|/);
        expect(await redis.pttl(`${cluster.name}:idem:pc-key-1`)).toBeGreaterThan(3_600_000);
      } finally {
        await redis.quit();
      }
      const again = await api('POST', '/users', { userName: 'pc-idem' }, { 'idempotency-key': 'pc-key-1' });
      expect(again.status).toBe(201);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(again.body).toEqual(first.body);
      const other = await api('POST', '/users', { userName: 'pc-other' }, { 'idempotency-key': 'pc-key-1' });
      expect(other.status).toBe(409);
      expect(other.body.error.code).toBe('IM_ERR_DUPLICATE_MISMATCH');
    });

    it('observer hooks - presence on both gates, a cross-gate send and a group change reach the business server from the job', async () => {
      const aliceId = await user('pc-alice');
      const bobId = await user('pc-bob');
      const alice = await login('pc-alice', 0);
      await login('pc-bob', 1);
      for (const [id, gate] of [
        [aliceId, cluster.gates[0]!.id],
        [bobId, cluster.gates[1]!.id],
      ] as const)
        await waitFor(
          () =>
            hooks().some((h) => h.event === 'user_online' && h.data.userId === id && h.data.gateId === gate),
          {
            timeoutMs: 20_000,
            message: `user_online for ${id} on ${gate}`,
          },
        );
      const sent = await alice.c.send({ to: bobId, sessionType: 1, text: 'across gates' });
      await waitFor(
        () =>
          hooks().some(
            (h) =>
              h.event === 'after_send' && h.data.from === aliceId && h.data.serverMsgId === sent.serverMsgId,
          ),
        { timeoutMs: 20_000, message: 'after_send' },
      );
      expect(hooks().find((h) => h.event === 'after_send' && h.data.from === aliceId)!.data.text).toBe(
        'across gates',
      );
      const g = await api('POST', '/groups', { owner: aliceId, name: 'pc group', members: [bobId] });
      expect(g.status).toBe(201);
      await waitFor(
        () => hooks().some((h) => h.event === 'group_changed' && h.data.groupId === g.body.groupId),
        {
          timeoutMs: 20_000,
          message: 'group_changed',
        },
      );
      expect(hook.requests.every((r) => r.verified)).toBe(true);
    });

    it('broadcast - everyone online on both gates gets the notification; audience all counts every user', async () => {
      const sys = await user('pc-system');
      await user('pc-erin');
      await user('pc-frank');
      const erin = await login('pc-erin', 0);
      const frank = await login('pc-frank', 1);
      const r = await api('POST', '/broadcasts', { from: sys, audience: 'online', text: 'hello everyone' });
      expect(r.status).toBe(202);
      for (const who of [erin, frank])
        await waitFor(() => who.box.some((m) => m.fromUserId === sys && m.text === 'hello everyone'), {
          timeoutMs: 20_000,
          message: 'the broadcast reached both gates',
        });
      const all = await api('POST', '/broadcasts', {
        from: sys,
        audience: 'all',
        notification: { notificationType: 7, data: {} },
      });
      await waitFor(
        async () => (await api('GET', `/broadcasts/${all.body.broadcastId}`)).body.state === 'done',
        {
          timeoutMs: 20_000,
        },
      );
      const st = (await api('GET', `/broadcasts/${all.body.broadcastId}`)).body;
      // Every user of the database but the sender, offline ones included (the replayed and the
      // refused creations of the idempotency test created none).
      expect(st.recipients).toBe(created - 1);
      expect(st.pages).toBe(1);
      await waitFor(() => frank.box.some((m) => m.fromUserId === sys && m.msgType === 9), {
        timeoutMs: 20_000,
      });
    });

    it('bot - a user on gate 2 chats with the echo bot; the job calls the bot, the bot answers through the api', async () => {
      const botId = await user('pc-echo');
      await user('pc-gina');
      expect((await api('PUT', `/users/${botId}/bot`, { webhookUrl: bot.url })).status).toBe(200);
      const gina = await login('pc-gina', 1);
      await gina.c.send({ to: botId, sessionType: 1, text: 'ping' });
      await waitFor(() => gina.box.some((m) => m.fromUserId === botId && m.text === 'echo: ping'), {
        timeoutMs: 20_000,
        message: 'the echo bot answered',
      });
      const recent = await gina.c.recentSessions();
      expect(recent.sessions.find((s) => s.sessionId === botId)).toMatchObject({ isRobot: true });
    });
  },
);
