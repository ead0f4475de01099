import Redis from 'ioredis';
import { createConnection } from 'mysql2/promise';
import { startFakeWebhook, type FakeWebhook } from '@mqim/push/testing';
import { createImClient, type ImClient, type ImMessage } from '@mqim/sdk';
import {
  describeInfra,
  probeMysql,
  probeRedis,
  probeRocketMq,
  startCluster,
  startMqim,
  waitFor,
  type MqimCluster,
  type MqimProcess,
} from '@mqim/testing';
// The example a business copies, run as it is (examples/ is no Nx project: it stands outside the graph).
// eslint-disable-next-line @nx/enforce-module-boundaries
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
    let api2: MqimProcess | undefined;
    /** The api process in use: the cluster's, then (after the crash test) its replacement. */
    let apiUrl = '';
    const hooks = () => hook.delivered as unknown as Hook[];
    /** Users this file created (the cluster's database is its own). */
    let created = 0;

    const api = async (
      method: string,
      path: string,
      body?: unknown,
      headers: Record<string, string> = {},
    ) => {
      const res = await fetch(`${apiUrl}/api/v1${path}`, {
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
        env: {
          MQIM_HOOK_OBSERVER_URL: hook.url,
          MQIM_HOOK_SECRET: hook.secret,
          // Scheduled messages: only those due within 3 s get a broker timer at once; the others
          // are armed from the store by a later scan.
          MQIM_SCHEDULE_ARM_WITHIN: '3000',
          MQIM_SCHEDULE_SCAN: '300',
        },
      });
      apiUrl = cluster.api!.url;
      // Its own secret comes with its registration (the bot test).
      bot = await startEchoBot({
        port: 0,
        apiUrl: cluster.api!.url,
        apiKey: cluster.api!.key,
      });
    }, 240_000);
    afterAll(async () => {
      await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
      await api2?.stop();
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
        // Stored under the key scoped by its route (idem:<route hash>:<key>): one entry.
        const found = await redis.keys(`${cluster.name}:idem:*:pc-key-1`);
        expect(found).toHaveLength(1);
        expect(await redis.get(found[0]!)).toMatch(/^d\|/);
        expect(await redis.pttl(found[0]!)).toBeGreaterThan(3_600_000);
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
      const flagged = await api('PUT', `/users/${botId}/bot`, { webhookUrl: bot.url });
      expect(flagged.status).toBe(200);
      // Signed with the bot's own secret: the deployment's MQIM_HOOK_SECRET is not it.
      expect(flagged.body.secret).not.toBe(hook.secret);
      bot.useSecret(flagged.body.secret);
      const gina = await login('pc-gina', 1);
      await gina.c.send({ to: botId, sessionType: 1, text: 'ping' });
      await waitFor(() => gina.box.some((m) => m.fromUserId === botId && m.text === 'echo: ping'), {
        timeoutMs: 20_000,
        message: 'the echo bot answered',
      });
      const recent = await gina.c.recentSessions();
      expect(recent.sessions.find((s) => s.sessionId === botId)).toMatchObject({ isRobot: true });
      expect(bot.refused).toBe(0);
    });

    it('bot in a group - members on two gates; two bots each answer a user once in the group, never each other', async () => {
      const other = await startEchoBot({ port: 0, apiUrl, apiKey: cluster.api!.key });
      try {
        const echoA = await user('pc-gecho-a');
        const echoB = await user('pc-gecho-b');
        const hanaId = await user('pc-hana');
        const ivoId = await user('pc-ivo');
        const a = await api('PUT', `/users/${echoA}/bot`, { webhookUrl: bot.url });
        const b = await api('PUT', `/users/${echoB}/bot`, { webhookUrl: other.url });
        bot.useSecret(a.body.secret);
        other.useSecret(b.body.secret);
        const group = await api('POST', '/groups', {
          owner: hanaId,
          name: 'bots',
          members: [ivoId, echoA, echoB],
        });
        expect(group.status).toBe(201);
        const groupId = group.body.groupId as number;
        const hana = await login('pc-hana', 0);
        const ivo = await login('pc-ivo', 1);
        const echoes = (box: ImMessage[]) =>
          box
            .filter(
              (m) =>
                m.sessionType === 2 &&
                m.toSessionId === groupId &&
                (m.fromUserId === echoA || m.fromUserId === echoB),
            )
            .map((m) => [m.fromUserId, m.text]);
        await hana.c.send({ to: groupId, sessionType: 2, text: 'hi bots' });
        await waitFor(() => echoes(ivo.box).length >= 2 && echoes(hana.box).length >= 2, {
          timeoutMs: 20_000,
          message: 'both bots answered in the group, seen on both gates',
        });
        // A second message and its answers: by then a bot answering the other bot would have.
        await ivo.c.send({ to: groupId, sessionType: 2, text: 'again' });
        await waitFor(() => echoes(ivo.box).length >= 4 && echoes(hana.box).length >= 4, {
          timeoutMs: 20_000,
          message: 'both bots answered again',
        });
        const want = [
          [echoA, 'echo: again'],
          [echoA, 'echo: hi bots'],
          [echoB, 'echo: again'],
          [echoB, 'echo: hi bots'],
        ].sort();
        expect(echoes(hana.box).sort()).toEqual(want);
        expect(echoes(ivo.box).sort()).toEqual(want);
        expect(bot.refused + other.refused).toBe(0);
      } finally {
        await other.close();
      }
    });

    it('scheduled messages - each sent once across a crash of the api: one already on a broker timer, one re-armed from the store', async () => {
      const fromId = await user('pc-sch-from');
      const toId = await user('pc-sch-to');
      const to = await login('pc-sch-to', 1);
      const now = Date.now();
      const schedule = async (text: string, sendAt: number) => {
        const r = await api('POST', '/scheduled-messages', {
          from: fromId,
          sessionType: 1,
          to: toId,
          text,
          sendAt,
        });
        expect(r.status).toBe(201);
        return r.body.scheduleId as number;
      };
      const onTimer = await schedule('armed before the crash', now + 2_500);
      const inStore = await schedule('armed after the restart', now + 8_000);
      const db = await createConnection({ uri: cluster.env.MQIM_MYSQL_URI! });
      try {
        const armed = async (id: number): Promise<number> => {
          const [rows] = await db.query(
            'SELECT armed_version FROM im_scheduled_message WHERE schedule_id = ?',
            [id],
          );
          return Number((rows as Array<{ armed_version: number }>)[0]!.armed_version);
        };
        await waitFor(async () => (await armed(onTimer)) === 1, {
          timeoutMs: 10_000,
          message: 'the first is on a timer',
        });
        expect(await armed(inStore)).toBe(0);
        // The only api process dies without any cleanup; a new one takes over.
        await cluster.api!.proc.kill();
        api2 = await startMqim(['api'], { env: { ...cluster.env }, timeoutMs: 90_000 });
        apiUrl = `http://127.0.0.1:${api2.ready.port as number}`;
        await waitFor(() => to.box.filter((m) => m.fromUserId === fromId).length >= 2, {
          timeoutMs: 40_000,
          message: 'both scheduled messages arrived after the restart',
        });
        expect(await armed(inStore)).toBe(1);
      } finally {
        await db.end();
      }
      const got = to.box.filter((m) => m.fromUserId === fromId);
      expect(got.map((m) => m.text)).toEqual(['armed before the crash', 'armed after the restart']);
      expect(got[1]!.createTime * 1000).toBeGreaterThanOrEqual(Math.floor((now + 8_000) / 1000) * 1000);
      const history = await to.c.history({ sessionType: 1, sessionId: fromId, limit: 10 });
      expect(history.map((m) => m.text)).toEqual(['armed before the crash', 'armed after the restart']);
      const url = `${apiUrl}/api/v1/scheduled-messages/`;
      for (const id of [onTimer, inStore])
        await waitFor(
          async () =>
            (
              (await (
                await fetch(`${url}${id}`, { headers: { authorization: `Bearer ${cluster.api!.key}` } })
              ).json()) as { status: string }
            ).status === 'sent',
          { timeoutMs: 10_000 },
        );
    });

    it('scheduled messages from a client on gate 1 to a peer on gate 2 (0x0860-0x0867)', async () => {
      const meId = await user('pc-sch-app');
      const peerId = await user('pc-sch-peer');
      const me = await login('pc-sch-app', 0);
      const peer = await login('pc-sch-peer', 1);
      const now = Date.now();
      const s1 = await me.c.scheduleMessage({
        to: peerId,
        text: 'scheduled in the app',
        sendAt: now + 1_500,
      });
      const s2 = await me.c.scheduleMessage({
        to: peerId,
        text: 'cancelled in the app',
        sendAt: now + 1_500,
      });
      await me.c.cancelScheduled(s2.scheduleId);
      expect((await me.c.scheduledMessages()).map((x) => x.scheduleId)).toEqual([s1.scheduleId]);
      await waitFor(() => peer.box.some((m) => m.fromUserId === meId), {
        timeoutMs: 30_000,
        message: 'delivered',
      });
      const history = await peer.c.history({ sessionType: 1, sessionId: meId, limit: 10 });
      expect(history.map((m) => m.text)).toEqual(['scheduled in the app']);
    });
  },
);
