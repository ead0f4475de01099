import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { startStandalone, type Standalone } from '@mqim/composition';
import { mqimSchema, readConfig } from '@mqim/config';
import { createImClient, type ImClient, type ImMessage } from '@mqim/sdk';
import {
  describeInfra,
  freePort,
  probeMysql,
  probeRedis,
  probeRocketMq,
  startModerationHook,
  waitFor,
  type ModerationHook,
} from '@mqim/testing';
import {
  embeddedAdapters,
  loopbackEnv,
  realAdapters,
  registerUsers,
  type Adapters,
} from './testing/standalone.fixture';

const KEY = 'k-hook-0123456789';

const { real, drop } = realAdapters('hook');
afterAll(drop);

interface Answer {
  serverMsgId: number;
  clientMsgId: string;
  error: { code: string; message: string };
}

/** The business server's before-send webhook, on client sends and API sends alike. */
function suite(label: string, adapters: Adapters): void {
  describe(`before-send hook - the business server allows, refuses or rewrites each message (${label})`, () => {
    const dirs: string[] = [];
    const servers: Standalone[] = [];
    const open: ImClient[] = [];
    let hook: ModerationHook;

    const boot = async (env: Record<string, string>) => {
      const dir = mkdtempSync(join(tmpdir(), 'mqim-hook-'));
      dirs.push(dir);
      const config = readConfig(
        mqimSchema,
        loopbackEnv(dir, { ...(await adapters()), MQIM_API_KEY: KEY, ...env }),
      );
      const s = await startStandalone(config, pino({ level: 'error' }));
      servers.push(s);
      return { s, ids: await registerUsers(s, ['alice', 'bob']) };
    };
    const login = async (s: Standalone, name: string) => {
      const c = createImClient({ url: `tcp://127.0.0.1:${s.ports.tcp}`, requestTimeoutMs: 10_000 });
      open.push(c);
      const box: ImMessage[] = [];
      c.on('message', (m) => box.push(m));
      await c.connect();
      await c.loginWithPassword(name, 'pw');
      return { c, box };
    };
    const post = async (s: Standalone, body: object, headers: Record<string, string> = {}) => {
      const res = await s.api.inject({
        method: 'POST',
        url: '/api/v1/messages',
        headers: { authorization: `Bearer ${KEY}`, ...headers },
        payload: body,
      });
      return { status: res.statusCode, body: JSON.parse(res.body) as Answer };
    };

    beforeAll(async () => {
      hook = await startModerationHook();
    });
    afterAll(async () => {
      await Promise.all(open.map((c) => c.close()));
      for (const s of servers) await s.stop();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
      await hook.close();
    });

    it('before-send - a rewrite is what is stored and delivered; a refusal reaches the sender with its code and is never delivered', async () => {
      // A generous budget: the subject here is the verdicts, not the budget (a loaded CI machine can
      // take longer than the default 200 ms for a process's first HTTP request).
      const { s, ids } = await boot({
        MQIM_HOOK_BEFORE_SEND_URL: hook.url,
        MQIM_HOOK_SECRET: hook.secret,
        MQIM_HOOK_BEFORE_SEND_BUDGET: '3s',
      });
      const alice = await login(s, 'alice');
      const bob = await login(s, 'bob');

      const rewritten = await alice.c.send({ to: ids.bob!, sessionType: 1, text: 'oh darn' });
      await waitFor(() => bob.box.some((m) => m.serverMsgId === rewritten.serverMsgId), {
        timeoutMs: 10_000,
      });
      expect(bob.box.find((m) => m.serverMsgId === rewritten.serverMsgId)!.text).toBe('oh ****');
      expect(hook.calls.every((c) => c.signed)).toBe(true);

      await expect(
        alice.c.send({ to: ids.bob!, sessionType: 1, text: 'cheap spam here' }),
      ).rejects.toMatchObject({
        code: 'IM_ERR_SEND_REFUSED',
        detail: { errorName: 'IM_ERR_REFUSED_BY_HOOK', text: 'SPAM: no advertising here' },
      });
      const api = await post(s, { from: ids.alice, sessionType: 1, to: ids.bob, text: 'api spam' });
      expect(api.status).toBe(403);
      expect(api.body.error).toEqual({
        code: 'IM_ERR_REFUSED_BY_HOOK',
        message: 'SPAM: no advertising here',
      });

      // Allowed after the refusals, in the same conversation: once it is there, the refused ones
      // would have been too.
      const after = await alice.c.send({ to: ids.bob!, sessionType: 1, text: 'fine' });
      await waitFor(() => bob.box.some((m) => m.serverMsgId === after.serverMsgId), { timeoutMs: 10_000 });
      expect(after.serverMsgId).toBe(rewritten.serverMsgId + 1);
      const history = await bob.c.history({ sessionType: 1, sessionId: ids.alice!, limit: 10 });
      expect(history.map((m) => m.text)).toEqual(['oh ****', 'fine']);
    });

    it('before-send - a retried send is answered from the store without asking the hook again', async () => {
      const s = servers[0]!;
      const ids = {
        alice: (await s.store.users.findByName('alice'))!.userId,
        bob: (await s.store.users.findByName('bob'))!.userId,
      };
      const body = { from: ids.alice, sessionType: 1, to: ids.bob, text: 'darn retry' };
      const first = await post(s, body, { 'idempotency-key': 'hook-retry-1' });
      const calls = hook.calls.length;
      const again = await post(s, body, { 'idempotency-key': 'hook-retry-1' });
      expect(first.status).toBe(201);
      expect(again).toEqual({
        status: 201,
        body: expect.objectContaining({ serverMsgId: first.body.serverMsgId }),
      });
      expect(hook.calls.length).toBe(calls);
    });

    it('before-send - an unreachable hook: fail-open stores the message as sent, fail-closed refuses it as unavailable', async () => {
      const dead = `http://127.0.0.1:${await freePort()}/before-send`;
      const openPolicy = await boot({ MQIM_HOOK_BEFORE_SEND_URL: dead, MQIM_HOOK_SECRET: 'x-secret' });
      const closedPolicy = await boot({
        MQIM_HOOK_BEFORE_SEND_URL: dead,
        MQIM_HOOK_SECRET: 'x-secret',
        MQIM_HOOK_BEFORE_SEND_POLICY: 'closed',
      });
      const ok = await post(openPolicy.s, {
        from: openPolicy.ids.alice,
        sessionType: 1,
        to: openPolicy.ids.bob,
        text: 'darn',
      });
      expect(ok.status).toBe(201);
      const stored = await openPolicy.s.store.messages.findSent(openPolicy.ids.alice!, ok.body.clientMsgId);
      expect(Buffer.from(stored!.msgData).toString()).toBe('darn');

      const refused = await post(closedPolicy.s, {
        from: closedPolicy.ids.alice,
        sessionType: 1,
        to: closedPolicy.ids.bob,
        text: 'hello',
      });
      expect(refused.status).toBe(503);
      expect(refused.body.error.code).toBe('IM_ERR_UNAVAILABLE');
      const alice = await login(closedPolicy.s, 'alice');
      await expect(
        alice.c.send({ to: closedPolicy.ids.bob!, sessionType: 1, text: 'hello' }),
      ).rejects.toMatchObject({
        detail: { errorName: 'IM_ERR_UNAVAILABLE' },
      });
    });
  });
}

suite('embedded', embeddedAdapters);
describeInfra(
  'before-send hook on real RocketMQ, MariaDB and Redis',
  [probeRocketMq(), probeMysql(), probeRedis()],
  () => suite('real', real),
);
