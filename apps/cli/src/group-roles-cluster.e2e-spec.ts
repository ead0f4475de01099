import { PassThrough } from 'node:stream';
import { createImClient, type ImClient, type ImMessage } from '@mqim/sdk';
import {
  describeInfra,
  probeMysql,
  probeRedis,
  probeRocketMq,
  runGroupRolesScenario,
  startCluster,
  waitFor,
  type MqimCluster,
} from '@mqim/testing';
import { runChat } from './chat';

/**
 * Issues 12 and 13 on the cluster: two gates, logic, job and api as processes on RocketMQ, MySQL
 * and Redis. The group-roles scenario (the same as the standalone's) with clients spread over
 * gate 1 TCP, gate 2 WS, gate 2 TCP and gate 1 WS, and `mqim chat` creating and joining groups.
 */
describeInfra(
  'group roles - cluster: roles, mutes, transfer and read receipts across gates; mqim chat groups',
  [probeRocketMq(), probeMysql(), probeRedis()],
  () => {
    let cluster: MqimCluster;
    const clients: ImClient[] = [];
    const chats: { input: PassThrough; done: Promise<number> }[] = [];

    const api = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${cluster.api!.url}/api/v1${path}`, {
        method,
        headers: {
          authorization: `Bearer ${cluster.api!.key}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined };
    };
    const createUser = async (userName: string): Promise<number> => {
      const res = await api('POST', '/users', { userName, password: 'secret' });
      expect(res.status).toBeLessThan(300);
      return (res.body as { userId: number }).userId;
    };

    beforeAll(async () => {
      cluster = await startCluster({ name: 'grouproles_e2e', gates: 2, logic: 1, jobs: 1 });
    }, 240_000);

    afterAll(async () => {
      for (const c of chats) c.input.end();
      await Promise.all(chats.map((c) => c.done.catch(() => 1)));
      await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
      await cluster?.stop();
    }, 60_000);

    it('group roles - every change reaches members on both gates; muted sends refused; receipts counted', async () => {
      const [g1, g2] = cluster.gates;
      clients.push(
        ...(await runGroupRolesScenario({
          urls: [g1!.tcp, g2!.ws, g2!.tcp, g1!.ws],
          api,
          createUser,
          prefix: `c${Date.now().toString(36)}`,
        })),
      );
    }, 120_000);

    it('mqim chat - /create makes a group a member on the other gate hears; an invited group shows in /groups', async () => {
      const tag = `ch${Date.now().toString(36)}`;
      const chatId = await createUser(`${tag}me`);
      const peerId = await createUser(`${tag}peer`);
      const peer = createImClient({ url: cluster.gates[1]!.ws, requestTimeoutMs: 15_000, reconnect: false });
      clients.push(peer);
      const box: ImMessage[] = [];
      peer.on('message', (m) => box.push(m));
      await peer.loginWithPassword(`${tag}peer`, 'secret');

      const input = new PassThrough();
      const output = new PassThrough();
      let text = '';
      output.on('data', (chunk: Buffer) => (text += chunk.toString()));
      const shows = (pattern: RegExp, message: string) =>
        waitFor(() => pattern.test(text), { timeoutMs: 20_000, message: `${message}; got:\n${text}` });
      const done = runChat(
        ['--server', cluster.gates[0]!.tcp, '--user', `${tag}me`, '--password', 'secret'],
        { input, output, clientOptions: { requestTimeoutMs: 15_000 } },
      );
      chats.push({ input, done });
      await shows(/Logged in/, 'chat did not log in');

      input.write(`/create ${tag}room ${peerId}\n`);
      await shows(/Created group #(\d+)/, 'no group created');
      const gid = Number(/Created group #(\d+)/.exec(text)![1]);
      input.write('hello room\n');
      await shows(/me: hello room {2}✓/, 'the line was not acked');
      await waitFor(() => box.some((m) => m.sessionId === gid && m.text === 'hello room'), {
        timeoutMs: 20_000,
        message: 'the member on the other gate did not get the message',
      });

      // Joining: the peer adds the chat user to a group of its own; it shows in /groups and opens.
      const { group } = await peer.createGroup({ name: `${tag}theirs`, memberIds: [chatId] });
      input.write('/groups\n');
      await shows(new RegExp(`#${group.groupId}\\s+${tag}theirs`), 'the invited group is not listed');
      await shows(new RegExp(`#${gid}\\s+${tag}room {2}\\(owner\\)`), 'the own group is not listed');
      input.write(`/open #${group.groupId}\n`);
      input.write('joined\n');
      await waitFor(() => box.some((m) => m.sessionId === group.groupId && m.text === 'joined'), {
        timeoutMs: 20_000,
        message: 'the chat user could not write to the group it was added to',
      });
      input.write('/quit\n');
      expect(await done).toBe(0);
    }, 120_000);
  },
);
