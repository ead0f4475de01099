import { createImClient, type ImClient, type ImMessage } from '@mqim/sdk';
import {
  describeInfra,
  probeMysql,
  probeRedis,
  probeRocketMq,
  startCluster,
  startModerationHook,
  waitFor,
  type MqimCluster,
  type ModerationHook,
} from '@mqim/testing';

const NOTIFICATION = 9;

interface SendAnswer {
  serverMsgId: number;
  clientMsgId: string;
  msgType: number;
  error: { code: string; message: string };
}

/**
 * The send API on the cluster topology: the api is a process of its own, the clients sit on two
 * gates, and logic and job are separate processes on RocketMQ, MySQL and Redis.
 */
describeInfra(
  'send api (cluster) - HTTP sends reach clients on two gates through logic and job',
  [probeRocketMq(), probeMysql(), probeRedis()],
  () => {
    let cluster: MqimCluster;
    let hook: ModerationHook;
    const clients: ImClient[] = [];

    const api = async <T>(
      method: string,
      path: string,
      body?: unknown,
      headers: Record<string, string> = {},
    ): Promise<{ status: number; body: T }> => {
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
      return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
    };
    const createUser = async (userName: string): Promise<number> => {
      const res = await api<{ userId: number }>('POST', '/users', { userName, password: 'secret' });
      expect(res.status).toBe(201);
      return res.body.userId;
    };
    const login = async (userName: string, gate: number): Promise<{ c: ImClient; box: ImMessage[] }> => {
      const c = createImClient({ url: cluster.gates[gate]!.tcp, requestTimeoutMs: 15_000, reconnect: false });
      clients.push(c);
      const box: ImMessage[] = [];
      c.on('message', (m) => box.push(m));
      await c.loginWithPassword(userName, 'secret');
      return { c, box };
    };

    beforeAll(async () => {
      // The business server's moderation, asked by the logic process for every send.
      hook = await startModerationHook();
      cluster = await startCluster({
        name: 'sendapi_e2e',
        gates: 2,
        logic: 1,
        jobs: 1,
        // The budget is not the subject here; a loaded machine's first hook request can be slow.
        env: {
          MQIM_HOOK_BEFORE_SEND_URL: hook.url,
          MQIM_HOOK_SECRET: hook.secret,
          MQIM_HOOK_BEFORE_SEND_BUDGET: '3s',
        },
      });
    }, 240_000);

    afterAll(async () => {
      await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
      await cluster?.stop();
      await hook?.close();
    }, 60_000);

    it('send api - the api process wires the send path', () => {
      expect(cluster.api!.proc.ready.features).toEqual(expect.arrayContaining(['send-api']));
    });

    it('send api - user to user across gates: acked once stored, delivered to both sides, in order, idempotent', async () => {
      const aliceId = await createUser('sa-alice');
      const bobId = await createUser('sa-bob');
      const alice = await login('sa-alice', 0);
      const bob = await login('sa-bob', 1);

      const first = await alice.c.send({ to: bobId, sessionType: 1, text: 'from the app' });
      const res = await api<SendAnswer>(
        'POST',
        '/messages',
        { from: aliceId, sessionType: 1, to: bobId, text: 'from the server' },
        { 'idempotency-key': 'cluster-once' },
      );
      expect(res.status).toBe(201);
      expect(res.body.serverMsgId).toBe(first.serverMsgId + 1);
      const id = res.body.serverMsgId;
      await waitFor(() => bob.box.some((m) => m.serverMsgId === id && m.text === 'from the server'), {
        timeoutMs: 15_000,
        message: 'bob (gate 2) got the API send',
      });
      await waitFor(() => alice.box.some((m) => m.serverMsgId === id), {
        timeoutMs: 15_000,
        message: "alice's own device (gate 1) got her API send",
      });

      const again = await api<SendAnswer>(
        'POST',
        '/messages',
        { from: aliceId, sessionType: 1, to: bobId, text: 'from the server' },
        { 'idempotency-key': 'cluster-once' },
      );
      expect(again).toMatchObject({ status: 201, body: { serverMsgId: id } });
      const history = await bob.c.history({ sessionType: 1, sessionId: aliceId, limit: 10 });
      expect(history.map((m) => m.text)).toEqual(['from the app', 'from the server']);
    });

    it('send api - a system notification to a group reaches members on both gates; a plain user is refused', async () => {
      const sysId = await createUser('sa-system');
      await createUser('sa-owner');
      const memberId = await createUser('sa-member');
      const owner = await login('sa-owner', 0);
      const member = await login('sa-member', 1);
      const group = await owner.c.createGroup({ name: 'ops', memberIds: [memberId] });
      const gid = group.group.groupId;

      const refused = await api<SendAnswer>('POST', '/messages', {
        from: sysId,
        sessionType: 2,
        to: gid,
        text: 'let me in',
      });
      expect(refused.status).toBe(403);
      expect(refused.body.error.code).toBe('IM_ERR_FORBIDDEN');

      const res = await api<SendAnswer>('POST', '/messages', {
        from: sysId,
        sessionType: 2,
        to: gid,
        system: true,
        notification: { notificationType: 1001, data: { text: 'maintenance at 02:00' } },
      });
      expect(res.status).toBe(201);
      for (const [who, c] of [
        ['owner (gate 1)', owner],
        ['member (gate 2)', member],
      ] as const)
        await waitFor(
          () => c.box.some((m) => m.serverMsgId === res.body.serverMsgId && m.msgType === NOTIFICATION),
          { timeoutMs: 15_000, message: `${who} got the notification` },
        );
    });

    it('before-send hook - the logic process rewrites a client send across gates and refuses an API send with its code', async () => {
      const aliceId = await createUser('hk-alice');
      const bobId = await createUser('hk-bob');
      const alice = await login('hk-alice', 0);
      const bob = await login('hk-bob', 1);
      const sent = await alice.c.send({ to: bobId, sessionType: 1, text: 'darn cluster' });
      await waitFor(() => bob.box.some((m) => m.serverMsgId === sent.serverMsgId), {
        timeoutMs: 15_000,
        message: 'bob (gate 2) got the rewritten message',
      });
      expect(bob.box.find((m) => m.serverMsgId === sent.serverMsgId)!.text).toBe('**** cluster');
      const refused = await api<SendAnswer>('POST', '/messages', {
        from: aliceId,
        sessionType: 1,
        to: bobId,
        text: 'spam offer',
      });
      expect(refused.status).toBe(403);
      expect(refused.body.error).toEqual({
        code: 'IM_ERR_REFUSED_BY_HOOK',
        message: 'SPAM: no advertising here',
      });
      expect(hook.calls.length).toBeGreaterThan(0);
      expect(hook.calls.every((c) => c.signed)).toBe(true);
    });

    it('group admin - a group created over HTTP notifies members on both gates; only the owner may disband it', async () => {
      const ownerId = await createUser('ga-owner');
      const aId = await createUser('ga-a');
      const bId = await createUser('ga-b');
      const a = await login('ga-a', 0);
      const b = await login('ga-b', 1);
      const created = await api<{ groupId: number }>('POST', '/groups', {
        owner: ownerId,
        name: 'cluster team',
        members: [aId, bId],
      });
      expect(created.status).toBe(201);
      const gid = created.body.groupId;
      for (const [who, c] of [
        ['a (gate 1)', a],
        ['b (gate 2)', b],
      ] as const)
        await waitFor(() => c.box.some((m) => m.msgType === NOTIFICATION && m.sessionId === gid), {
          timeoutMs: 15_000,
          message: `${who} got the group-created notification`,
        });
      expect((await api<SendAnswer>('DELETE', `/groups/${gid}`, { by: aId })).status).toBe(403);
      expect((await api<SendAnswer>('DELETE', `/groups/${gid}`, { by: ownerId })).status).toBe(204);
    });
  },
);
