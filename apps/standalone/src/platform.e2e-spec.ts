import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { startStandalone, type Standalone } from '@mqim/composition';
import { mqimSchema, readConfig } from '@mqim/config';
import { startFakeWebhook, type FakeWebhook } from '@mqim/push/testing';
import { createImClient, type ImClient, type ImMessage } from '@mqim/sdk';
import { waitFor } from '@mqim/testing';
import { loopbackEnv } from './testing/standalone.fixture';

const KEY = 'k-platform-0123456789';

interface Hook {
  id: string;
  event: string;
  data: Record<string, unknown>;
}

/**
 * Issue 13's platform features on the standalone (embedded adapters): idempotency keys on every
 * POST, observer webhooks, broadcasts. Bots: examples/echo-bot/echo-bot.e2e-spec.ts.
 */
describe('platform (standalone) - idempotency keys, observer webhooks, broadcasts', () => {
  let dir: string;
  let s: Standalone;
  let hook: FakeWebhook;
  const clients: ImClient[] = [];
  const hooks = () => hook.delivered as unknown as Hook[];

  const api = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await s.api.inject({
      method: method as 'POST',
      url: `/api/v1${path}`,
      headers: { authorization: `Bearer ${KEY}`, ...headers },
      payload: body as object,
    });
    return {
      status: res.statusCode,
      headers: res.headers,
      body: res.body ? JSON.parse(res.body) : undefined,
    };
  };
  const user = async (userName: string): Promise<number> => {
    const r = await api('POST', '/users', { userName, password: 'pw' });
    expect(r.status).toBe(201);
    return r.body.userId as number;
  };
  const login = async (name: string) => {
    const c = createImClient({ url: `tcp://127.0.0.1:${s.ports.tcp}`, requestTimeoutMs: 10_000 });
    clients.push(c);
    const box: ImMessage[] = [];
    c.on('message', (m) => box.push(m));
    await c.connect();
    await c.loginWithPassword(name, 'pw');
    return { c, box };
  };

  beforeAll(async () => {
    hook = await startFakeWebhook();
    dir = mkdtempSync(join(tmpdir(), 'mqim-platform-'));
    s = await startStandalone(
      readConfig(
        mqimSchema,
        loopbackEnv(dir, {
          MQIM_API_KEY: KEY,
          MQIM_HOOK_OBSERVER_URL: hook.url,
          MQIM_HOOK_SECRET: hook.secret,
          MQIM_PASSWORD_HASH_COST: '10',
        }),
      ),
      pino({ level: 'error' }),
    );
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await s?.stop();
    await hook?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('idempotency - a retried user or group creation answers the first answer; another body under the key is 409', async () => {
    const first = await api('POST', '/users', { userName: 'idem-ann' }, { 'idempotency-key': 'mk-ann' });
    const again = await api('POST', '/users', { userName: 'idem-ann' }, { 'idempotency-key': 'mk-ann' });
    expect(first.status).toBe(201);
    expect(again).toMatchObject({
      status: 201,
      body: first.body,
      headers: { 'idempotent-replayed': 'true' },
    });

    const group = { owner: first.body.userId, name: 'idem group', members: [] };
    const g1 = await api('POST', '/groups', group, { 'idempotency-key': 'mk-group' });
    const g2 = await api('POST', '/groups', group, { 'idempotency-key': 'mk-group' });
    expect(g1.status).toBe(201);
    expect(g2.body.groupId).toBe(g1.body.groupId);
    // One group was created: the next one gets the next id.
    const g3 = await api('POST', '/groups', { ...group, name: 'another' });
    expect(g3.body.groupId).toBe(g1.body.groupId + 1);

    const other = await api('POST', '/groups', { ...group, name: 'x' }, { 'idempotency-key': 'mk-group' });
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe('IM_ERR_DUPLICATE_MISMATCH');
  });

  it('observer hooks - online, after_send with the text, group_changed and offline reach the business server, signed', async () => {
    const aliceId = await user('obs-alice');
    const bobId = await user('obs-bob');
    const alice = await login('obs-alice');
    await waitFor(() => hooks().some((h) => h.event === 'user_online' && h.data.userId === aliceId), {
      timeoutMs: 15_000,
      message: 'user_online for alice',
    });
    const sent = await alice.c.send({ to: bobId, sessionType: 1, text: 'observed' });
    await waitFor(
      () => hooks().some((h) => h.event === 'after_send' && h.data.serverMsgId === sent.serverMsgId),
      {
        timeoutMs: 15_000,
        message: 'after_send for the message',
      },
    );
    expect(hooks().find((h) => h.event === 'after_send' && h.data.from === aliceId)).toMatchObject({
      data: { from: aliceId, to: bobId, sessionType: 1, text: 'observed', msgType: 1 },
    });
    const g = await api('POST', '/groups', { owner: aliceId, name: 'observed group', members: [bobId] });
    await waitFor(
      () => hooks().some((h) => h.event === 'group_changed' && h.data.groupId === g.body.groupId),
      {
        timeoutMs: 15_000,
        message: 'group_changed for the new group',
      },
    );
    expect(
      hooks().find((h) => h.event === 'group_changed' && h.data.groupId === g.body.groupId),
    ).toMatchObject({
      data: { change: 'created', by: aliceId, userIds: [bobId], memberCount: 2 },
    });
    // The group's own notice is not reported as a message.
    expect(hooks().some((h) => h.event === 'after_send' && h.data.from === g.body.groupId)).toBe(false);
    await alice.c.close();
    await waitFor(() => hooks().some((h) => h.event === 'user_offline' && h.data.userId === aliceId), {
      timeoutMs: 15_000,
      message: 'user_offline for alice',
    });
    expect(hook.requests.every((r) => r.verified)).toBe(true);
    // Every event once per delivery id (no retries were needed).
    const ids = hook.requests.map((r) => r.headers['x-mqim-delivery']);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('broadcast - a system notification to everyone online reaches every connection; the status says how many', async () => {
    const sys = await user('bc-system');
    await user('bc-carol');
    await user('bc-dave');
    const carol = await login('bc-carol');
    const dave = await login('bc-dave');
    const r = await api('POST', '/broadcasts', {
      from: sys,
      audience: 'online',
      notification: { notificationType: 1000, data: { text: 'maintenance at 02:00' } },
    });
    expect(r.status).toBe(202);
    expect(r.body).toMatchObject({ audience: 'online', state: expect.stringMatching(/queued|running|done/) });
    for (const who of [carol, dave])
      await waitFor(() => who.box.some((m) => m.fromUserId === sys && m.msgType === 9), {
        timeoutMs: 15_000,
        message: 'the broadcast arrived',
      });
    const got = carol.box.find((m) => m.fromUserId === sys)!;
    expect(JSON.parse(Buffer.from(got.data).toString())).toEqual({
      notificationType: 1000,
      data: { text: 'maintenance at 02:00' },
    });
    await waitFor(async () => (await api('GET', `/broadcasts/${r.body.broadcastId}`)).body.state === 'done', {
      timeoutMs: 15_000,
    });
    const st = await api('GET', `/broadcasts/${r.body.broadcastId}`);
    // Everyone online but the sender: carol and dave (alice logged out in the previous test).
    expect(st.body.recipients).toBe(2);
    expect(st.body.pages).toBe(1);
    // Not stored: nothing in carol's history with the system account.
    expect(await carol.c.history({ sessionType: 1, sessionId: sys, limit: 10 })).toEqual([]);
    expect((await api('POST', '/broadcasts', { from: 999_999, audience: 'all', text: 'x' })).status).toBe(
      404,
    );
    expect((await api('POST', '/broadcasts', { from: sys, audience: 'everyone', text: 'x' })).status).toBe(
      400,
    );
  });

  it('scheduled messages - sent at their time once, rescheduled, cancelled, listed; 30 days is the limit', async () => {
    const fromId = await user('sch-from');
    const toId = await user('sch-to');
    const to = await login('sch-to');
    const now = Date.now();
    const create = (text: string, sendAt: number) =>
      api('POST', '/scheduled-messages', { from: fromId, sessionType: 1, to: toId, text, sendAt });
    const soon = await create('in two seconds', now + 2_000);
    expect(soon.status).toBe(201);
    expect(soon.body).toMatchObject({
      status: 'pending',
      version: 1,
      clientMsgId: `sch-${soon.body.scheduleId}`,
    });
    const moved = await create('moved', now + 600_000);
    const cancelled = await create('cancelled', now + 3_000);
    expect(
      (await api('PATCH', `/scheduled-messages/${moved.body.scheduleId}`, { sendAt: now + 3_000 })).body,
    ).toMatchObject({
      version: 2,
      sendAt: now + 3_000,
    });
    expect((await api('DELETE', `/scheduled-messages/${cancelled.body.scheduleId}`)).status).toBe(204);
    const listed = await api('GET', `/users/${fromId}/scheduled-messages`);
    expect(listed.body.scheduled.map((x: { scheduleId: number }) => x.scheduleId)).toEqual([
      soon.body.scheduleId,
      moved.body.scheduleId,
    ]);

    await waitFor(() => to.box.filter((m) => m.fromUserId === fromId).length >= 2, {
      timeoutMs: 20_000,
      message: 'both scheduled messages arrived',
    });
    const got = to.box.filter((m) => m.fromUserId === fromId);
    expect(got.map((m) => m.text)).toEqual(['in two seconds', 'moved']);
    // Not before its time.
    expect(got[0]!.createTime * 1000).toBeGreaterThanOrEqual(Math.floor((now + 2_000) / 1000) * 1000);
    await waitFor(
      async () => (await api('GET', `/scheduled-messages/${moved.body.scheduleId}`)).body.status === 'sent',
      {
        timeoutMs: 10_000,
      },
    );
    const sent = await api('GET', `/scheduled-messages/${moved.body.scheduleId}`);
    expect(sent.body.serverMsgId).toBe(got[1]!.serverMsgId);
    // Too late to cancel or move a sent message; the history holds each once.
    const late = await api('DELETE', `/scheduled-messages/${moved.body.scheduleId}`);
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe('IM_ERR_SCHEDULE_TOO_LATE');
    const history = await to.c.history({ sessionType: 1, sessionId: fromId, limit: 10 });
    expect(history.map((m) => m.text)).toEqual(['in two seconds', 'moved']);
    expect((await api('GET', `/scheduled-messages/${cancelled.body.scheduleId}`)).body.status).toBe(
      'cancelled',
    );

    expect((await create('too far', now + 31 * 86_400_000)).status).toBe(400);
    expect((await create('past', now - 1000)).status).toBe(400);
    expect((await api('GET', '/scheduled-messages/999999')).status).toBe(404);
  });

  it('scheduled messages from the client (0x0860-0x0867) - schedule, list, reschedule, cancel; sent once at its time', async () => {
    const peerId = await user('sch-peer');
    const meId = await user('sch-client');
    const me = await login('sch-client');
    const peer = await login('sch-peer');
    const now = Date.now();
    const a = await me.c.scheduleMessage({ to: peerId, text: 'from the app, later', sendAt: now + 1_500 });
    expect(a).toMatchObject({ to: peerId, status: 'pending', version: 1, text: 'from the app, later' });
    const b = await me.c.scheduleMessage({ to: peerId, text: 'never', sendAt: now + 60_000 });
    const c = await me.c.scheduleMessage({ to: peerId, text: 'moved up', sendAt: now + 60_000 });
    expect((await me.c.scheduledMessages()).map((x) => x.scheduleId)).toEqual([
      a.scheduleId,
      b.scheduleId,
      c.scheduleId,
    ]);
    expect(await me.c.reschedule(c.scheduleId, now + 2_000)).toMatchObject({
      version: 2,
      sendAt: now + 2_000,
    });
    await me.c.cancelScheduled(b.scheduleId);
    // Another user's message is not found; a past time and a stranger's group are refused.
    await expect(peer.c.cancelScheduled(a.scheduleId)).rejects.toMatchObject({
      detail: { errorName: 'IM_ERR_NOT_FOUND' },
    });
    await expect(me.c.scheduleMessage({ to: peerId, text: 'x', sendAt: now - 1 })).rejects.toMatchObject({
      detail: { errorName: 'IM_ERR_INVALID_ARGUMENT' },
    });
    await expect(me.c.scheduleMessage({ to: 987_654, text: 'x', sendAt: now + 5_000 })).rejects.toMatchObject(
      {
        detail: { errorName: 'IM_ERR_NOT_FOUND' },
      },
    );
    await waitFor(() => peer.box.filter((m) => m.fromUserId === meId).length >= 2, {
      timeoutMs: 20_000,
      message: 'both scheduled messages arrived',
    });
    const got = peer.box.filter((m) => m.fromUserId === meId);
    expect(got.map((m) => m.text)).toEqual(['from the app, later', 'moved up']);
    // Sent: nothing pending; too late to cancel.
    await waitFor(async () => (await me.c.scheduledMessages()).length === 0, { timeoutMs: 10_000 });
    await waitFor(
      async () => (await api('GET', `/scheduled-messages/${c.scheduleId}`)).body.status === 'sent',
      { timeoutMs: 10_000 },
    );
    await expect(me.c.cancelScheduled(c.scheduleId)).rejects.toMatchObject({
      detail: { errorName: 'IM_ERR_SCHEDULE_TOO_LATE' },
    });
  });
});
