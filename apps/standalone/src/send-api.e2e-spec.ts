import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { startStandalone, type Standalone } from '@mqim/composition';
import { mqimSchema, readConfig } from '@mqim/config';
import { MqNames, decodePersisted, type mqim } from '@mqim/protocol';
import { createImClient, type ImClient, type ImMessage } from '@mqim/sdk';
import { describeInfra, probeMysql, probeRedis, probeRocketMq, waitFor } from '@mqim/testing';
import {
  embeddedAdapters,
  loopbackEnv,
  realAdapters,
  registerUsers,
  type Adapters,
} from './testing/standalone.fixture';

const KEY = 'k-send-api-0123456789';
const NOTIFICATION = 9;

/** A 201's fields or an error's; a test reads the ones its status promises. */
interface SendAnswer {
  serverMsgId: number;
  clientMsgId: string;
  msgType: number;
  error: { code: string; message: string };
}

const { real, drop } = realAdapters('sendapi');
afterAll(drop);

/**
 * The send API on one process: a message posted over HTTP is acked only once stored, reaches the
 * recipient's and the sender's connections, is in history in the conversation's order, is tapped,
 * and a retry with the same Idempotency-Key is the same message.
 */
function suite(label: string, adapters: Adapters): void {
  describe(`send api - HTTP sends travel the clients' message path (${label})`, () => {
    let dir: string;
    let s: Standalone;
    let ids: Record<string, number>;
    const open: ImClient[] = [];
    const tapped: mqim.v1.IPersistedMessage[] = [];

    const login = async (name: string): Promise<{ c: ImClient; box: ImMessage[] }> => {
      const c = createImClient({ url: `tcp://127.0.0.1:${s.ports.tcp}`, requestTimeoutMs: 10_000 });
      open.push(c);
      const box: ImMessage[] = [];
      c.on('message', (m) => box.push(m));
      await c.connect();
      await c.loginWithPassword(name, 'pw');
      return { c, box };
    };
    const post = async (body: unknown, headers: Record<string, string> = {}) => {
      const res = await s.api.inject({
        method: 'POST',
        url: '/api/v1/messages',
        headers: { authorization: `Bearer ${KEY}`, ...headers },
        payload: body as object,
      });
      return { status: res.statusCode, body: JSON.parse(res.body) as SendAnswer };
    };

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'mqim-send-api-'));
      const config = readConfig(mqimSchema, loopbackEnv(dir, { ...(await adapters()), MQIM_API_KEY: KEY }));
      s = await startStandalone(config, pino({ level: 'warn' }));
      ids = await registerUsers(s, ['alice', 'bob', 'carol', 'sys']);
      const names = new MqNames(config.topicPrefix);
      // An analytics consumer of its own, as docs/mq-topics.md describes one.
      const tapGroup = `${config.topicPrefix}-tap-test`;
      await s.bus.ensureGroups([{ name: tapGroup, orderly: false }]);
      await s.bus.subscribe({ topic: names.persisted, group: tapGroup }, async (m) => {
        tapped.push(...decodePersisted(m.body));
      });
    });
    afterAll(async () => {
      await Promise.all(open.map((c) => c.close()));
      await s?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('send api - user to user: stored, delivered to the recipient and the sender, in order, tapped', async () => {
      const alice = await login('alice');
      const bob = await login('bob');
      const before = await alice.c.send({ to: ids.bob!, sessionType: 1, text: 'from the app' });

      const res = await post({ from: ids.alice, sessionType: 1, to: ids.bob, text: 'from the server' });
      expect(res.status).toBe(201);
      expect(res.body.serverMsgId).toBeGreaterThan(before.serverMsgId);
      const id = res.body.serverMsgId as number;

      await waitFor(() => bob.box.some((m) => m.serverMsgId === id), { timeoutMs: 10_000 });
      const got = bob.box.find((m) => m.serverMsgId === id)!;
      expect(got).toMatchObject({ fromUserId: ids.alice, text: 'from the server', sessionId: ids.alice });
      // The sender's own devices see it too (multi-device sync), as for a send from another device.
      await waitFor(() => alice.box.some((m) => m.serverMsgId === id), { timeoutMs: 10_000 });

      const after = await bob.c.send({ to: ids.alice!, sessionType: 1, text: 'reply' });
      expect(after.serverMsgId).toBe(id + 1);
      const history = await bob.c.history({ sessionType: 1, sessionId: ids.alice!, limit: 10 });
      expect(history.map((m) => m.text)).toEqual(['from the app', 'from the server', 'reply']);
      await waitFor(
        () => tapped.some((t) => Number(t.serverMsgId) === id && Number(t.fromUserId) === ids.alice),
        {
          timeoutMs: 10_000,
          message: 'the API send was not tapped',
        },
      );
    });

    it('send api - a retry with the same Idempotency-Key is the same message; another body under it is 409', async () => {
      const body = { from: ids.carol, sessionType: 1, to: ids.bob, text: 'once' };
      const first = await post(body, { 'idempotency-key': 'order-42-shipped' });
      const again = await post(body, { 'idempotency-key': 'order-42-shipped' });
      expect(first.status).toBe(201);
      expect(again.status).toBe(201);
      expect(again.body.serverMsgId).toBe(first.body.serverMsgId);
      expect(again.body.clientMsgId).toBe('order-42-shipped');
      const other = await post(
        { ...body, text: 'something else' },
        { 'idempotency-key': 'order-42-shipped' },
      );
      expect(other.status).toBe(409);
      expect(other.body.error.code).toBe('IM_ERR_DUPLICATE_MISMATCH');
      const rows = await s.store.messages.findSent(ids.carol!, 'order-42-shipped');
      expect(rows?.serverMsgId).toBe(first.body.serverMsgId);
      const bad = await post(body, { 'idempotency-key': 'has space' });
      expect(bad.status).toBe(400);
    });

    it('send api - a system account posts to a group it is not in; a plain user may not', async () => {
      const alice = await login('alice');
      const bob = await login('bob');
      const group = await alice.c.createGroup({ name: 'ops', memberIds: [ids.bob!] });
      const gid = group.group.groupId;

      const refused = await post({ from: ids.sys, sessionType: 2, to: gid, text: 'not a member' });
      expect(refused.status).toBe(403);
      expect(refused.body.error.code).toBe('IM_ERR_FORBIDDEN');

      const res = await post({
        from: ids.sys,
        sessionType: 2,
        to: gid,
        system: true,
        notification: { notificationType: 1000, data: { maintenance: '02:00' } },
      });
      expect(res.status).toBe(201);
      expect(res.body.msgType).toBe(NOTIFICATION);
      for (const member of [alice, bob]) {
        await waitFor(
          () => member.box.some((m) => m.serverMsgId === res.body.serverMsgId && m.sessionId === gid),
          {
            timeoutMs: 10_000,
          },
        );
        const m = member.box.find((x) => x.serverMsgId === res.body.serverMsgId && x.sessionId === gid)!;
        expect(m.msgType).toBe(NOTIFICATION);
        expect(JSON.parse(Buffer.from(m.data).toString('utf8'))).toEqual({
          notificationType: 1000,
          data: { maintenance: '02:00' },
        });
      }
      const history = await bob.c.history({ sessionType: 2, sessionId: gid, limit: 10 });
      expect(history.at(-1)?.serverMsgId).toBe(res.body.serverMsgId);
    });

    it('group admin - create, invite, kick and disband over HTTP follow the client rules and notify members', async () => {
      const bob = await login('bob');
      const call = async (method: 'POST' | 'DELETE', url: string, payload: object) => {
        const res = await s.api.inject({
          method,
          url: `/api/v1${url}`,
          headers: { authorization: `Bearer ${KEY}` },
          payload,
        });
        return {
          status: res.statusCode,
          body: res.body ? (JSON.parse(res.body) as Record<string, unknown>) : {},
        };
      };
      const created = await call('POST', '/groups', {
        owner: ids.alice,
        name: 'http team',
        members: [ids.bob],
      });
      expect(created.status).toBe(201);
      const gid = created.body.groupId as number;
      expect(created.body).toMatchObject({ name: 'http team', ownerId: ids.alice });
      expect((created.body.memberIds as number[]).sort()).toEqual([ids.alice, ids.bob].sort());
      await waitFor(() => bob.box.some((m) => m.msgType === NOTIFICATION && m.sessionId === gid), {
        timeoutMs: 10_000,
        message: 'bob got the group-created notification',
      });

      expect(
        (await call('POST', `/groups/${gid}/members`, { by: ids.alice, members: [ids.carol] })).status,
      ).toBe(204);
      expect((await s.store.groups.members(gid)).sort()).toEqual([ids.alice, ids.bob, ids.carol].sort());
      const notOwner = await call('DELETE', `/groups/${gid}/members`, { by: ids.bob, members: [ids.carol] });
      expect(notOwner.status).toBe(403);
      expect((notOwner.body.error as { code: string }).code).toBe('IM_ERR_FORBIDDEN');
      expect(
        (await call('DELETE', `/groups/${gid}/members`, { by: ids.alice, members: [ids.carol] })).status,
      ).toBe(204);
      expect((await s.store.groups.members(gid)).sort()).toEqual([ids.alice, ids.bob].sort());

      expect((await call('DELETE', `/groups/${gid}`, { by: ids.bob })).status).toBe(403);
      expect((await call('DELETE', `/groups/${gid}`, { by: ids.alice })).status).toBe(204);
      const gone = await post({ from: ids.alice, sessionType: 2, to: gid, text: 'anyone?' });
      expect(gone.status).toBe(404);
      const missing = await call('POST', '/groups/999999/members', { by: ids.alice, members: [ids.bob] });
      expect(missing.status).toBe(404);
    });

    it('send api - refusals carry the code the message path gives', async () => {
      const unknown = await post({ from: ids.alice, sessionType: 1, to: 99_999_999, text: 'x' });
      expect(unknown.status).toBe(404);
      expect(unknown.body.error.code).toBe('IM_ERR_NOT_FOUND');
      const noSender = await post({ from: 99_999_998, sessionType: 1, to: ids.bob, text: 'x' });
      expect(noSender.status).toBe(404);
      const both = await post({
        from: ids.alice,
        sessionType: 1,
        to: ids.bob,
        text: 'x',
        data: 'eA==',
        msgType: 2,
      });
      expect(both.status).toBe(400);
      expect(both.body.error.code).toBe('IM_ERR_INVALID_ARGUMENT');
      const self = await post({ from: ids.alice, sessionType: 1, to: ids.alice, text: 'x' });
      expect(self.status).toBe(400);
      const big = await post({
        from: ids.alice,
        sessionType: 1,
        to: ids.bob,
        text: 'x'.repeat(s.config.maxMsgDataBytes + 1),
      });
      expect([400, 413]).toContain(big.status);
      const noKey = await s.api.inject({ method: 'POST', url: '/api/v1/messages', payload: {} });
      expect(noKey.statusCode).toBe(401);
    });
  });
}

suite('embedded', embeddedAdapters);
describeInfra(
  'send api on real RocketMQ, MariaDB and Redis',
  [probeRocketMq(), probeMysql(), probeRedis()],
  () => suite('real', real),
);
