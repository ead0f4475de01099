import { startFakeWebhook, type FakeWebhook } from '@mqim/push/testing';
import { createImClient, type ImClient, type KickOutNotice } from '@mqim/sdk';
import { KickOutReason } from '@mqim/protocol';
import {
  describeInfra,
  probeMysql,
  probeRedis,
  probeRocketMq,
  startCluster,
  waitFor,
  type MqimCluster,
} from '@mqim/testing';

/**
 * The features the standalone has, on the cluster topology: each role a process of its own on
 * RocketMQ, MySQL and Redis. Until the roles shared one composition, the job had no push
 * dispatcher and the api no bus (kick answered 503).
 */
describeInfra(
  'cluster parity - push, kick and drain work across role processes',
  [probeRocketMq(), probeMysql(), probeRedis()],
  () => {
    let cluster: MqimCluster;
    let hook: FakeWebhook;
    const clients: ImClient[] = [];

    const api = async <T>(
      method: string,
      path: string,
      body?: unknown,
    ): Promise<{ status: number; body: T }> => {
      const res = await fetch(`${cluster.api!.url}/api/v1${path}`, {
        method,
        headers: {
          authorization: `Bearer ${cluster.api!.key}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
    };
    const createUser = async (userName: string): Promise<number> => {
      const res = await api<{ userId: number }>('POST', '/users', { userName, password: 'secret' });
      expect(res.status).toBeLessThan(300);
      return res.body.userId;
    };
    const login = async (userName: string): Promise<ImClient> => {
      const c = createImClient({ url: cluster.gates[0]!.tcp, requestTimeoutMs: 10_000, reconnect: false });
      clients.push(c);
      await c.loginWithPassword(userName, 'secret');
      return c;
    };

    beforeAll(async () => {
      hook = await startFakeWebhook();
      cluster = await startCluster({
        name: 'parity_e2e',
        gates: 1,
        logic: 1,
        jobs: 1,
        env: {
          MQIM_PUSH_WEBHOOK_URL: hook.url,
          MQIM_PUSH_WEBHOOK_SECRET: hook.secret,
          MQIM_PUSH_CHECK_DELAY: '600ms',
          MQIM_PUSH_COALESCE: '300ms',
        },
      });
    }, 240_000);

    afterAll(async () => {
      await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
      await cluster?.stop();
      await hook?.close();
    }, 60_000);

    it('push - the job process sends an undelivered message through the configured webhook', async () => {
      expect(cluster.jobs[0]!.ready.features).toEqual(expect.arrayContaining(['push:webhook']));
      const senderId = await createUser('p-sender');
      const awayId = await createUser('p-away');
      const dev = await api('POST', `/users/${awayId}/devices`, { platform: 'webhook', token: 'dev-away' });
      expect(dev.status).toBeLessThan(300);

      const sender = await login('p-sender');
      await sender.send({ to: awayId, text: 'are you there?' });
      await waitFor(() => hook.delivered.some((p) => p.notification.userId === awayId), {
        timeoutMs: 15_000,
        message: 'the webhook got the offline push',
      });
      const push = hook.delivered.find((p) => p.notification.userId === awayId)!;
      expect(push.notification).toMatchObject({ title: 'p-sender', body: 'are you there?' });
      expect(senderId).toBeGreaterThan(0);
    });

    it('kick - POST /users/:id/kick on the api process reaches the client on the gate process', async () => {
      const userId = await createUser('k-user');
      const c = await login('k-user');
      const kicked: KickOutNotice[] = [];
      c.on('kickedOut', (k) => kicked.push(k));
      await waitFor(
        async () => (await api<{ online: boolean }>('GET', `/users/${userId}/online`)).body.online,
        {
          timeoutMs: 10_000,
          message: 'the route of k-user reached Redis',
        },
      );

      const res = await api<{ kicked: number }>('POST', `/users/${userId}/kick`, {});
      expect(res).toEqual({ status: 200, body: { userId, kicked: 1 } });
      await waitFor(() => kicked.length === 1, {
        timeoutMs: 10_000,
        message: 'the client got the kick-out notice',
      });
      expect(kicked[0]!.reason).toBe(KickOutReason.KICKED_BY_ADMIN);
    });

    // Last: it stops the cluster's only gate.
    it('drain - SIGTERM on the gate process: its clients get SERVER_SHUTDOWN, lose their routes, the gate exits 0', async () => {
      const userId = await createUser('d-user');
      const c = await login('d-user');
      const kicked: KickOutNotice[] = [];
      const disconnected: unknown[] = [];
      c.on('kickedOut', (k) => kicked.push(k));
      c.on('disconnected', (d) => disconnected.push(d));
      const gate = cluster.gates[0]!.proc;
      const connected = clients.filter((x) => x.state === 'loggedIn').length;

      expect(await gate.stop()).toBe(0);
      expect(kicked).toEqual([expect.objectContaining({ reason: KickOutReason.SERVER_SHUTDOWN })]);
      await waitFor(() => disconnected.length > 0, { timeoutMs: 5000, message: 'the client saw the close' });
      expect(gate.logs.find((l) => l.msg === 'gate drained')).toMatchObject({
        connections: connected,
        unanswered: 0,
      });
      expect((await api<{ online: boolean }>('GET', `/users/${userId}/online`)).body.online).toBe(false);
    });
  },
);
