import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import WebSocket from 'ws';
import { startStandalone, type Standalone } from '@mqim/composition';
import { mqimSchema, readConfig } from '@mqim/config';
import * as nodeSdk from '@mqim/sdk';
import * as browserSdk from '@mqim/sdk/browser';
import { errorPathCases, parityCases } from '@mqim/sdk/testing';
import { waitFor } from '@mqim/testing';
import { loopbackEnv, registerUsers } from './testing/standalone.fixture';

/**
 * The SDK against the real server instead of its fake (FakeImServer): the same calls through
 * both entries. `@mqim/sdk/browser` runs here on Node with the `ws` library standing in for the
 * platform WebSocket (Node 20 has none); in Chromium it is driven by apps/web's browser suite.
 */
type Flavour = { label: string; create: typeof nodeSdk.createImClient; url: (s: Standalone) => string };
const flavours: Flavour[] = [
  { label: 'node entry, tcp', create: nodeSdk.createImClient, url: (s) => `tcp://127.0.0.1:${s.ports.tcp}` },
  { label: 'node entry, ws', create: nodeSdk.createImClient, url: (s) => `ws://127.0.0.1:${s.ports.ws}/ws` },
  {
    label: 'browser entry, ws',
    create: browserSdk.createImClient,
    url: (s) => `ws://127.0.0.1:${s.ports.ws}/ws`,
  },
];
const { SessionType } = nodeSdk;
const text = (data: Uint8Array) => new TextDecoder().decode(data);

let dir: string;
let s: Standalone;
let ids: Record<string, number>;
const hadWebSocket = 'WebSocket' in globalThis;
const previousWebSocket = (globalThis as { WebSocket?: unknown }).WebSocket;

beforeAll(async () => {
  if (!hadWebSocket) (globalThis as { WebSocket?: unknown }).WebSocket = WebSocket;
  dir = mkdtempSync(join(tmpdir(), 'mqim-sdk-real-'));
  s = await startStandalone(readConfig(mqimSchema, loopbackEnv(dir)), pino({ level: 'warn' }));
  ids = await registerUsers(s, ['ann', 'ben', 'cat', 'dan', 'eve', 'fay', 'xa', 'xb', 'xc']);
}, 60_000);

afterAll(async () => {
  await s?.stop();
  rmSync(dir, { recursive: true, force: true });
  if (!hadWebSocket) (globalThis as { WebSocket?: unknown }).WebSocket = previousWebSocket;
});

describe.each(flavours)('sdk on the real standalone - $label', ({ label, create, url }) => {
  const open: nodeSdk.ImClient[] = [];
  const client = async (name: string) => {
    const c = create({ url: url(s), reconnect: false });
    open.push(c);
    await c.loginWithPassword(name, 'pw');
    return c;
  };
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()));
  });

  it('login - a wrong password is refused with the server code, the right one logs in', async () => {
    const c = create({ url: url(s) });
    open.push(c);
    await expect(c.loginWithPassword('ann', 'nope')).rejects.toMatchObject({ code: 'IM_ERR_LOGIN_FAILED' });
    expect((await client('ann')).user).toMatchObject({ userId: ids.ann, nickName: 'ann' });
  });

  it('messages - stored, delivered as Uint8Array text, read notify back to the sender, history exact', async () => {
    // A conversation of its own per flavour.
    const [a, b] = label.startsWith('browser')
      ? ['cat', 'dan']
      : label.endsWith('ws')
        ? ['eve', 'fay']
        : ['ann', 'ben'];
    const alice = await client(a);
    const bob = await client(b);
    const got: nodeSdk.ImMessage[] = [];
    const reads: nodeSdk.ReadNotify[] = [];
    bob.on('message', (m) => got.push(m));
    alice.on('readNotify', (r) => reads.push(r));

    const sent = [];
    for (const t of ['one', 'two', 'three'])
      sent.push(await alice.send({ to: ids[b], text: `${label} ${t}` }));
    expect(sent.map((r) => r.serverMsgId)).toEqual([...sent.map((r) => r.serverMsgId)].sort((x, y) => x - y));
    await waitFor(() => got.length === 3, { timeoutMs: 10_000, message: 'not every message delivered' });
    expect(got.map((m) => m.text)).toEqual([`${label} one`, `${label} two`, `${label} three`]);
    expect(got[0].data).toBeInstanceOf(Uint8Array);
    expect(text(got[0].data)).toBe(`${label} one`);
    expect(got[0]).toMatchObject({ fromUserId: ids[a], sessionId: ids[a], sessionType: SessionType.SINGLE });

    await bob.markRead(SessionType.SINGLE, ids[a], got[2].serverMsgId);
    await waitFor(() => reads.length > 0, { timeoutMs: 10_000, message: 'no read notify' });
    expect(reads[0]).toMatchObject({ readerId: ids[b], msgId: got[2].serverMsgId });

    const newest = await bob.history({ sessionType: SessionType.SINGLE, sessionId: ids[a], limit: 2 });
    const older = await bob.history({
      sessionType: SessionType.SINGLE,
      sessionId: ids[a],
      endMsgId: newest[0].serverMsgId,
      limit: 2,
    });
    expect([...older, ...newest].filter((m) => m.text?.startsWith(label)).map((m) => m.text)).toEqual(
      got.map((m) => m.text),
    );
  });

  it('groups - create with members, the member list, a group message reaches the members', async () => {
    const owner = await client('ann');
    const member = await client('ben');
    const got: nodeSdk.ImMessage[] = [];
    member.on('message', (m) => {
      if (m.msgType === nodeSdk.MsgType.TEXT) got.push(m);
    });
    const { group } = await owner.createGroup({ name: `g ${label}`, memberIds: [ids.ben] });
    expect((await owner.groupMembers(group.groupId)).sort()).toEqual([ids.ann, ids.ben].sort());
    await owner.send({ to: group.groupId, sessionType: SessionType.GROUP, text: `hi ${label}` });
    await waitFor(() => got.length === 1, { timeoutMs: 10_000, message: 'group message not delivered' });
    expect(got[0]).toMatchObject({
      sessionId: group.groupId,
      sessionType: SessionType.GROUP,
      text: `hi ${label}`,
    });
    const [info] = await member.groupInfo([group.groupId]);
    expect(info.name).toBe(`g ${label}`);
  });

  it('sessions - an offline recipient finds the unread count and the messages after login', async () => {
    const sender = await client('cat');
    for (const t of ['x', 'y']) await sender.send({ to: ids.eve, text: `${label} offline ${t}` });
    const eve = await client('eve');
    const recent = await eve.recentSessions();
    expect(recent.sessions.find((x) => x.sessionId === ids.cat)?.unreadCount).toBeGreaterThanOrEqual(2);
    const page = await eve.history({ sessionType: SessionType.SINGLE, sessionId: ids.cat, limit: 50 });
    expect(page.map((m) => m.text)).toEqual(
      expect.arrayContaining([`${label} offline x`, `${label} offline y`]),
    );
    await eve.markRead(SessionType.SINGLE, ids.cat, 0);
  });

  describe('shared cases - error paths and calls packages/sdk runs on its fake, here on the real server', () => {
    let group = 0;
    beforeAll(async () => {
      const owner = await client('xa');
      group = (await owner.createGroup({ name: `x ${label}`, memberIds: [ids.xb] })).group.groupId;
      // xa and xb are contacts (once: each transport's block finds them so already).
      if ((await owner.requestFriend(ids.xb!)).state !== 'friends')
        await (await client('xb')).acceptFriend(ids.xa!);
    });
    const users = { a: 'xa', b: 'xb', c: 'xc' } as const;
    it.each([...errorPathCases, ...parityCases])('%s', (_name, run) =>
      run({
        login: (who) => client(users[who]),
        wrongPassword: () => {
          const c = create({ url: url(s), reconnect: false });
          open.push(c);
          return c.loginWithPassword('xc', 'wrong');
        },
        ids: {
          a: ids.xa,
          b: ids.xb,
          c: ids.xc,
          group,
          missingUser: 987_654_321,
          missingGroup: 987_654_322,
        },
        maxMsgDataBytes: s.config.maxMsgDataBytes,
      }),
    );
  });
});
