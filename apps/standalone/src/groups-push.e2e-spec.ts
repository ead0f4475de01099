import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { startStandalone, type Standalone } from '@mqim/composition';
import { mqimSchema, readConfig } from '@mqim/config';
import { startFakeWebhook, type FakeWebhook } from '@mqim/push/testing';
import { createImClient, passwordMd5, type ImClient, type ImMessage, type KickOutNotice } from '@mqim/sdk';
import { describeInfra, probeMysql, probeRedis, probeRocketMq, waitFor } from '@mqim/testing';
import { CimErrorCode, CommandId, ImErrorNumber, KickOutReason } from '@mqim/protocol';
import { embeddedAdapters, realAdapters, type Adapters } from './testing/standalone.fixture';

const NOTIFICATION = 9;

const { real, drop } = realAdapters('e2e');
const embedded = embeddedAdapters;
afterAll(drop);

let adapters: Adapters = embedded;

async function boot(dir: string, env: Record<string, string>): Promise<Standalone> {
  const config = readConfig(mqimSchema, {
    ...(await adapters()),
    MQIM_DATA_DIR: dir,
    MQIM_GATE_HOST: '127.0.0.1',
    MQIM_API_HOST: '127.0.0.1',
    MQIM_GATE_TCP_PORT: '0',
    MQIM_GATE_WS_PORT: '0',
    MQIM_API_PORT: '0',
    MQIM_API_KEY: 'k-groups-0123456789',
    ...env,
  });
  return startStandalone(config, pino({ level: 'warn' }));
}

async function users(s: Standalone, names: string[]): Promise<Record<string, number>> {
  const ids: Record<string, number> = {};
  for (const name of names) {
    await s.api.inject({
      method: 'POST',
      url: '/user/register',
      payload: { userName: name, userNickName: name, userPwd: passwordMd5('pw') },
    });
    ids[name] = (await s.store.users.findByName(name))!.userId;
  }
  return ids;
}

function suite(label: string, use: Adapters): void {
  beforeAll(() => {
    adapters = use;
  });

  describe(`groups - write diffusion, permissions and notifications (${label})`, () => {
    let dir: string;
    let s: Standalone;
    let ids: Record<string, number>;
    const open: ImClient[] = [];
    const login = async (name: string, ws = false): Promise<ImClient> => {
      const c = createImClient({
        url: ws ? `ws://127.0.0.1:${s.ports.ws}/ws` : `tcp://127.0.0.1:${s.ports.tcp}`,
        requestTimeoutMs: 5000,
      });
      open.push(c);
      await c.connect();
      await c.loginWithPassword(name, 'pw');
      return c;
    };

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'mqim-groups-'));
      s = await boot(dir, {});
      ids = await users(s, ['owner', 'ann', 'ben', 'cid', 'dan']);
    });
    afterAll(async () => {
      await Promise.all(open.map((c) => c.close()));
      await s?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('groups - create, message online and offline members, refusals, invite, kick, exit, disband', async () => {
      const owner = await login('owner');
      const ann = await login('ann', true);
      const annBox: ImMessage[] = [];
      ann.on('message', (m) => annBox.push(m));
      const changes: number[][] = [];
      ann.on('groupMemberChanged', (n) => changes.push(n.changes.map((c) => c.userId)));

      const created = await owner.createGroup({ name: 'team', memberIds: [ids.ann, ids.ben] });
      expect(created.group.ownerId).toBe(ids.owner);
      expect(created.memberIds.sort()).toEqual([ids.owner, ids.ann, ids.ben].sort());
      expect(created.notification).toBeDefined();
      const gid = created.group.groupId;
      await waitFor(() => annBox.some((m) => m.msgType === NOTIFICATION && m.sessionId === gid), {
        timeoutMs: 5000,
        message: 'no create notification',
      });

      const sent = await owner.send({ to: gid, sessionType: 2, text: 'hello team' });
      await waitFor(() => annBox.some((m) => m.serverMsgId === sent.serverMsgId), { timeoutMs: 5000 });

      // ben was offline: recent sessions and group history have it, with an unread count
      const ben = await login('ben');
      const recent = await ben.recentSessions();
      expect(
        recent.sessions.find((x) => x.sessionType === 2 && x.sessionId === gid)?.unreadCount,
      ).toBeGreaterThanOrEqual(2);
      const history = await ben.history({ sessionType: 2, sessionId: gid, limit: 50 });
      expect(history.map((m) => m.serverMsgId)).toEqual(
        [...history.map((m) => m.serverMsgId)].sort((a, b) => a - b),
      );
      expect(history.at(-1)?.text).toBe('hello team');

      // refusals: non-member send, non-owner kick/disband, owner exit
      const cid = await login('cid');
      await expect(cid.send({ to: gid, sessionType: 2, text: 'let me in' })).rejects.toMatchObject({
        code: 'IM_ERR_SEND_REFUSED',
      });
      // Refused by the server with IM_ERR_FORBIDDEN as the result code — not a timeout, which a
      // bare "rejects" would also accept.
      const forbidden = (command: number) => ({
        code: 'IM_ERR_REQUEST_FAILED',
        command,
        resultCode: ImErrorNumber.IM_ERR_FORBIDDEN,
      });
      await expect(ann.kickMembers(gid, [ids.ben])).rejects.toMatchObject(
        forbidden(CommandId.GROUP_KICK_OUT_MEMBER_REQ),
      );
      await expect(ann.disbandGroup(gid)).rejects.toMatchObject(forbidden(CommandId.GROUP_DISBINGDING_REQ));
      await expect(owner.exitGroup(gid)).rejects.toMatchObject(forbidden(CommandId.GROUP_EXIT_REQ));
      expect(await cid.groupMembers(gid)).toEqual([]); // strangers learn nothing

      // group read ack: the author gets the notify
      const ownerReads: number[] = [];
      owner.on('readNotify', (r) => ownerReads.push(r.readerId));
      await ben.markRead(2, gid, sent.serverMsgId);
      await waitFor(() => ownerReads.includes(ids.ben), {
        timeoutMs: 5000,
        message: 'group read notify never arrived',
      });

      // invite and kick send member-changed notifies (0x0515)
      await ann.inviteMembers(gid, [ids.cid]);
      await waitFor(() => changes.some((c) => c.includes(ids.cid)), { timeoutMs: 5000 });
      expect((await owner.groupMembers(gid)).sort()).toEqual([ids.owner, ids.ann, ids.ben, ids.cid].sort());
      await cid.send({ to: gid, sessionType: 2, text: 'thanks' });
      await owner.kickMembers(gid, [ids.cid]);
      await expect(cid.send({ to: gid, sessionType: 2, text: 'still here?' })).rejects.toMatchObject({
        code: 'IM_ERR_SEND_REFUSED',
      });
      await ben.exitGroup(gid);
      expect((await owner.groupMembers(gid)).sort()).toEqual([ids.owner, ids.ann].sort());
      expect((await owner.listGroups()).map((g) => g.groupId)).toContain(gid);

      await owner.disbandGroup(gid);
      await expect(ann.send({ to: gid, sessionType: 2, text: 'anyone?' })).rejects.toMatchObject({
        code: 'IM_ERR_SEND_REFUSED',
      });
      expect((await ann.listGroups()).map((g) => g.groupId)).not.toContain(gid);
    });
  });

  describe(`large groups - a 3,000-member group with members online (${label})`, () => {
    let dir: string;
    let s: Standalone;
    const open: ImClient[] = [];
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'mqim-biggroup-'));
      // One request lists all 2,999 members: a deployment with large groups raises the limit.
      s = await boot(dir, { MQIM_GROUP_REQUEST_MAX_MEMBERS: '3000' });
    });
    afterAll(async () => {
      await Promise.all(open.map((c) => c.close()));
      await s?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    // Regression: the creation notice listed every member id (~35 KB here) and the job copied it
    // once per online member into the gate batches; on RocketMQ the intent outlived its
    // invisibility time, came back forever and blocked the group's FIFO queue.
    it('large group - the creation notice stays small, and the group is usable at once', async () => {
      const total = 3000;
      const created: number[] = [];
      const onlineIdx = [0, ...Array.from({ length: 30 }, (_, i) => 1 + i * 97)];
      const online = new Set(onlineIdx);
      for (let i = 0; i < total; i++) {
        // Only members that log in get a password: each one costs a scrypt hash (~50 ms).
        const u = await s.store.users.create({
          userName: `big-${label}-${i}`,
          passwordMd5: online.has(i) ? passwordMd5('pw') : null,
        });
        created.push(u.userId);
      }
      const [ownerId, ...memberIds] = created;
      const boxes = new Map<number, ImMessage[]>();
      for (const [n, i] of onlineIdx.entries()) {
        const c = createImClient({
          url: n % 2 ? `ws://127.0.0.1:${s.ports.ws}/ws` : `tcp://127.0.0.1:${s.ports.tcp}`,
          requestTimeoutMs: 15_000,
        });
        open.push(c);
        await c.connect();
        await c.loginWithPassword(`big-${label}-${i}`, 'pw');
        const box: ImMessage[] = [];
        c.on('message', (m) => box.push(m));
        boxes.set(created[i], box);
      }
      const owner = open[0];
      const group = await owner.createGroup({ name: 'everyone', memberIds });
      expect(group.memberIds).toHaveLength(total);
      const gid = group.group.groupId;
      const members = [...boxes].filter(([id]) => id !== ownerId);
      await waitFor(() => members.every(([, box]) => box.some((m) => m.msgType === NOTIFICATION)), {
        timeoutMs: 20_000,
        message: 'not every online member got the creation notice',
      });
      const notice = members[0][1].find((m) => m.msgType === NOTIFICATION)!;
      expect(notice.data.length).toBeLessThan(4096);
      const { data } = JSON.parse(Buffer.from(notice.data).toString('utf8')) as {
        data: { ids: string[]; idsTotal: number; idsTruncated: boolean };
      };
      expect(data.ids).toHaveLength(100);
      expect(data).toMatchObject({ idsTotal: total - 1, idsTruncated: true });

      const sent = await owner.send({ to: gid, sessionType: 2, text: 'welcome, all 3,000' });
      await waitFor(() => members.every(([, box]) => box.some((m) => m.serverMsgId === sent.serverMsgId)), {
        timeoutMs: 20_000,
        message: 'the first message after creation did not reach every online member',
      });
      expect(await owner.groupMembers(gid)).toHaveLength(total);
    });
  });

  describe(`offline push - undelivered messages become pushes through the webhook provider (${label})`, () => {
    let dir: string;
    let s: Standalone;
    let hook: FakeWebhook;
    let ids: Record<string, number>;
    const open: ImClient[] = [];

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'mqim-push-'));
      hook = await startFakeWebhook();
      s = await boot(dir, {
        MQIM_PUSH_WEBHOOK_URL: hook.url,
        MQIM_PUSH_WEBHOOK_SECRET: hook.secret,
        MQIM_PUSH_CHECK_DELAY: '600ms',
        MQIM_PUSH_COALESCE: '300ms',
      });
      ids = await users(s, ['sender', 'away', 'silent', 'present', 'muted']);
      for (const name of ['away', 'silent', 'present', 'muted'])
        await s.api.inject({
          method: 'POST',
          url: `/api/v1/users/${ids[name]}/devices`,
          headers: { authorization: 'Bearer k-groups-0123456789' },
          payload: { platform: 'webhook', token: `dev-${name}` },
        });
      await s.api.inject({
        method: 'PUT',
        url: `/api/v1/users/${ids.muted}/mutes`,
        headers: { authorization: 'Bearer k-groups-0123456789' },
        payload: { sessionType: 1, sessionId: ids.sender, muted: true },
      });
    });
    afterAll(async () => {
      await Promise.all(open.map((c) => c.close()));
      await s?.stop();
      await hook?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    const client = async (name: string, autoReceipts = true): Promise<ImClient> => {
      const c = createImClient({ url: `tcp://127.0.0.1:${s.ports.tcp}`, autoReceipts });
      open.push(c);
      await c.connect();
      await c.loginWithPassword(name, 'pw');
      return c;
    };
    const pushedTo = (name: string) => hook.delivered.filter((p) => p.notification.userId === ids[name]);

    it('push - offline at once, online without receipt after the check, never with a receipt or when muted; floods coalesce', async () => {
      const sender = await client('sender');
      await client('silent', false); // connected, but its client never acknowledges deliveries
      await client('present'); // acknowledges every delivery
      for (const to of ['away', 'silent', 'present', 'muted'])
        await sender.send({ to: ids[to], text: `ping ${to}` });
      await waitFor(() => pushedTo('away').length === 1 && pushedTo('silent').length === 1, {
        timeoutMs: 5000,
        message: 'expected pushes to away and silent',
      });
      expect(pushedTo('away')[0].notification).toMatchObject({ title: 'sender', body: 'ping away' });
      // A barrier past the check delay: a later message to 'silent' is pushed only when its check
      // fires, after the check of present's message, which found it acknowledged.
      await sender.send({ to: ids.silent, text: 'ping silent again' });
      await waitFor(() => pushedTo('silent').length === 2, {
        timeoutMs: 10_000,
        message: 'the barrier push to silent',
      });
      expect(pushedTo('present')).toHaveLength(0);
      expect(pushedTo('muted')).toHaveLength(0);

      // a flood of 20 messages to an offline user becomes at most one push per coalesce window
      const before = pushedTo('away').length;
      const started = Date.now();
      for (let i = 0; i < 20; i++) await sender.send({ to: ids.away, text: `flood ${i}` });
      const windows = Math.ceil((Date.now() - started) / 300) + 1;
      await new Promise((r) => setTimeout(r, 1000));
      const flood = pushedTo('away').length - before;
      expect(flood).toBeGreaterThanOrEqual(1);
      expect(flood).toBeLessThanOrEqual(Math.min(windows, 10));
    });
  });

  describe(`receipts - delivery receipts reach the store's ack-time table (${label})`, () => {
    let dir: string;
    let s: Standalone;
    const open: ImClient[] = [];
    afterAll(async () => {
      await Promise.all(open.map((c) => c.close()));
      await s?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('receipts - the newest delivered id per conversation is flushed in batches and never moves back', async () => {
      dir = mkdtempSync(join(tmpdir(), 'mqim-receipts-'));
      s = await boot(dir, { MQIM_RECEIPT_FLUSH: '200ms' });
      const ids = await users(s, ['ada', 'bea']);
      const mk = async (name: string) => {
        const c = createImClient({ url: `tcp://127.0.0.1:${s.ports.tcp}` });
        open.push(c);
        await c.connect();
        await c.loginWithPassword(name, 'pw');
        return c;
      };
      const ada = await mk('ada');
      await mk('bea'); // sends a receipt for every delivery
      let last = 0;
      for (let i = 0; i < 5; i++) last = (await ada.send({ to: ids.bea, text: `r${i}` })).serverMsgId;
      await waitFor(async () => (await s.store.receipts.get(ids.bea, 1, ids.ada))?.deliveredMsgId === last, {
        timeoutMs: 8000,
        message: 'receipts never reached the store',
      });
      const row = await s.store.receipts.get(ids.bea, 1, ids.ada);
      expect(row?.deliveredAtMs).toBeGreaterThan(0);
      // a stale receipt arriving late does not move delivered-up-to backwards
      await s.store.receipts.recordDelivered([
        { ownerUserId: ids.bea, sessionType: 1, sessionId: ids.ada, msgId: 1, atMs: Date.now() },
      ]);
      expect((await s.store.receipts.get(ids.bea, 1, ids.ada))?.deliveredMsgId).toBe(last);
    });
  });

  describe(`token revoke - every session of the user ends and learns why (${label})`, () => {
    let dir: string;
    let s: Standalone;
    const open: ImClient[] = [];
    afterEach(async () => {
      await Promise.all(open.splice(0).map((c) => c.close()));
      await s?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('DELETE /users/:id/tokens: token and password sessions get CREDENTIALS_REVOKED, the token no longer logs in, others chat on', async () => {
      dir = mkdtempSync(join(tmpdir(), 'mqim-revoke-'));
      s = await boot(dir, {});
      const ids = await users(s, ['rae', 'sam', 'tom']);
      const auth = { authorization: 'Bearer k-groups-0123456789' };
      const issued = await s.api.inject({
        method: 'POST',
        url: `/api/v1/users/${ids.rae}/tokens`,
        headers: auth,
      });
      const { token } = issued.json<{ token: string }>();
      const client = (url: string) => {
        const c = createImClient({ url, reconnect: false });
        open.push(c);
        return c;
      };
      const kicked: KickOutNotice[] = [];
      const byToken = client(`tcp://127.0.0.1:${s.ports.tcp}`);
      const byPassword = client(`ws://127.0.0.1:${s.ports.ws}/ws`);
      for (const c of [byToken, byPassword]) c.on('kickedOut', (k) => kicked.push(k));
      await byToken.loginWithToken(ids.rae!, token);
      await byPassword.loginWithPassword('rae', 'pw');
      const sam = client(`tcp://127.0.0.1:${s.ports.tcp}`);
      const tom = client(`ws://127.0.0.1:${s.ports.ws}/ws`);
      await sam.loginWithPassword('sam', 'pw');
      await tom.loginWithPassword('tom', 'pw');

      const revoked = await s.api.inject({
        method: 'DELETE',
        url: `/api/v1/users/${ids.rae}/tokens`,
        headers: auth,
      });
      expect(revoked.statusCode).toBe(204);
      await waitFor(() => kicked.length === 2, { timeoutMs: 5000, message: 'both sessions got the notice' });
      expect(kicked.map((k) => k.reason)).toEqual([
        KickOutReason.CREDENTIALS_REVOKED,
        KickOutReason.CREDENTIALS_REVOKED,
      ]);

      const again = client(`tcp://127.0.0.1:${s.ports.tcp}`);
      await expect(again.loginWithToken(ids.rae!, token)).rejects.toMatchObject({
        code: 'IM_ERR_LOGIN_FAILED',
        resultCode: CimErrorCode.LOGIN_INVALID_USER_TOKEN,
      });
      const got = new Promise<void>((resolve) => tom.once('message', () => resolve()));
      await sam.send({ to: ids.tom!, text: 'still here' });
      await got;
    });
  });

  describe(`login policy - displaced devices get a kick-out notice and are closed (${label})`, () => {
    let dir: string;
    let s: Standalone;
    const open: ImClient[] = [];
    afterEach(async () => {
      await Promise.all(open.splice(0).map((c) => c.close()));
      await s?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    async function run(policy: string, second: { clientType: number }): Promise<{ kicked: KickOutNotice[] }> {
      dir = mkdtempSync(join(tmpdir(), 'mqim-policy-'));
      s = await boot(dir, { MQIM_LOGIN_POLICY: policy });
      await users(s, ['pat']);
      const kicked: KickOutNotice[] = [];
      const first = createImClient({ url: `tcp://127.0.0.1:${s.ports.tcp}`, clientType: 1 });
      open.push(first);
      first.on('kickedOut', (k) => kicked.push(k));
      await first.connect();
      await first.loginWithPassword('pat', 'pw');
      const other = createImClient({ url: `ws://127.0.0.1:${s.ports.ws}/ws`, clientType: second.clientType });
      open.push(other);
      await other.connect();
      await other.loginWithPassword('pat', 'pw');
      // A barrier on the first connection: logic stores a kick before the login's answer, on the
      // same gate's FIFO topic, so a kick was written to it before this request's answer (the
      // request then fails on the closed connection).
      await first.friends().catch(() => undefined);
      return { kicked };
    }

    it('policy many - both devices stay', async () => {
      expect((await run('many', { clientType: 1 })).kicked).toHaveLength(0);
    });
    it('policy per-type - a second device of the same type displaces the first', async () => {
      expect((await run('per-type', { clientType: 1 })).kicked).toHaveLength(1);
    });
    it('policy per-type - a device of another type does not', async () => {
      expect((await run('per-type', { clientType: 2 })).kicked).toHaveLength(0);
    });
    it('policy single - any second login displaces the first', async () => {
      expect((await run('single', { clientType: 2 })).kicked).toHaveLength(1);
    });
  });
}

describe('embedded adapters', () => suite('embedded', embedded));
describeInfra('real RocketMQ, MariaDB and Redis', [probeRocketMq(), probeMysql(), probeRedis()], () =>
  suite('real', real),
);
