import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { startStandalone, type Standalone } from '@mqim/composition';
import { mqimSchema, readConfig } from '@mqim/config';
import { CIM, CommandId, decodeBody, encodeBody } from '@mqim/protocol';
import {
  MsgType,
  RECALLED_STATUS,
  SessionType,
  createImClient,
  type ImClient,
  type ImMessage,
  type RecallNotice,
  type SyncCursor,
} from '@mqim/sdk';
import { RawClient, waitFor } from '@mqim/testing';
import { loopbackEnv, registerUsers } from './testing/standalone.fixture';

/**
 * Sync after reconnect (0x0810 / 0x0812) and recall (0x0814-0x0816) on the real standalone,
 * through the SDK over TCP and WS: what an app that was offline, or whose peer recalls, sees.
 * docs/adr/0013.
 */
let dir: string;
let s: Standalone;
let ids: Record<string, number>;
const open: ImClient[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mqim-sync-recall-'));
  s = await startStandalone(
    readConfig(
      mqimSchema,
      loopbackEnv(dir, { MQIM_RECALL_WINDOW_SEC: '60', MQIM_MAX_FRAME: String(1024 * 1024) }),
    ),
    pino({ level: 'warn' }),
  );
  ids = await registerUsers(s, ['ann', 'ben', 'cat', 'dan', 'eve', 'fay', 'gus']);
}, 60_000);

afterAll(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
  await s?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function login(name: string, transport: 'tcp' | 'ws' = 'tcp'): Promise<ImClient> {
  const url = transport === 'tcp' ? `tcp://127.0.0.1:${s.ports.tcp}` : `ws://127.0.0.1:${s.ports.ws}/ws`;
  const c = createImClient({ url, reconnect: false });
  open.push(c);
  await c.loginWithPassword(name, 'pw');
  return c;
}

/** Every page of `sync()` from `cursor` until the server says nothing more. */
async function syncAll(c: ImClient, cursor: SyncCursor, query = { maxConversations: 1, maxMessages: 3 }) {
  const got = new Map<string, ImMessage[]>();
  let rounds = 0;
  for (;;) {
    const page = await c.sync(cursor, query);
    rounds++;
    for (const conv of page.conversations) {
      const key = `${conv.sessionType}:${conv.sessionId}`;
      got.set(key, [...(got.get(key) ?? []), ...conv.messages]);
    }
    cursor = page.cursor;
    if (!page.hasMore) return { got, cursor, rounds };
    if (rounds > 100) throw new Error('sync does not converge');
  }
}

describe('sync after reconnect', () => {
  it('sync - a user offline for many messages in several conversations gets each exactly once, in order, paged', async () => {
    const ann = await login('ann');
    const cat = await login('cat', 'ws');
    const { group } = await ann.createGroup({ name: 'sync team', memberIds: [ids.ben, ids.cat] });
    const sent = { ann: [] as number[], cat: [] as number[], group: [] as number[] };
    for (let i = 0; i < 7; i++) sent.ann.push((await ann.send({ to: ids.ben, text: `a${i}` })).serverMsgId);
    for (let i = 0; i < 4; i++) sent.cat.push((await cat.send({ to: ids.ben, text: `c${i}` })).serverMsgId);
    for (let i = 0; i < 5; i++)
      sent.group.push(
        (await cat.send({ to: group.groupId, sessionType: SessionType.GROUP, text: `g${i}` })).serverMsgId,
      );

    // Ben was never online: an empty cursor is "I have nothing".
    const ben = await login('ben');
    const first = await syncAll(ben, { positions: [] });
    const texts = (key: string) =>
      (first.got.get(key) ?? []).filter((m) => m.msgType === MsgType.TEXT).map((m) => m.text);
    expect(texts(`1:${ids.ann}`)).toEqual(['a0', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6']);
    expect(texts(`1:${ids.cat}`)).toEqual(['c0', 'c1', 'c2', 'c3']);
    expect(texts(`2:${group.groupId}`)).toEqual(['g0', 'g1', 'g2', 'g3', 'g4']);
    for (const msgs of first.got.values()) {
      const serverIds = msgs.map((m) => m.serverMsgId);
      expect(serverIds).toEqual([...new Set(serverIds)].sort((x, y) => x - y));
    }
    // 1 conversation x 3 messages per page: many small pages, none repeated or skipped.
    expect(first.rounds).toBeGreaterThan(5);

    // Caught up: the cursor now returns nothing; a new message comes back alone.
    expect((await ben.sync(first.cursor)).conversations).toEqual([]);
    await ann.send({ to: ids.ben, text: 'later' });
    const again = await syncAll(ben, first.cursor, { maxConversations: 20, maxMessages: 50 });
    expect([...again.got.values()].flat().map((m) => m.text)).toEqual(['later']);
    expect(again.rounds).toBe(1);
  });

  it('syncConversation - pages forward after a server id with no gap or repeat; bad ids are refused', async () => {
    const dan = await login('dan');
    const eve = await login('eve', 'ws');
    const sent: number[] = [];
    for (let i = 0; i < 6; i++) sent.push((await dan.send({ to: ids.eve, text: `d${i}` })).serverMsgId);
    const seen: number[] = [];
    let after = sent[0]!;
    for (;;) {
      const page = await eve.syncConversation({
        sessionType: SessionType.SINGLE,
        sessionId: ids.dan,
        afterServerMsgId: after,
        limit: 2,
      });
      seen.push(...page.messages.map((m) => m.serverMsgId));
      if (!page.hasMore) break;
      after = page.messages[page.messages.length - 1]!.serverMsgId;
    }
    expect(seen).toEqual(sent.slice(1));
    await expect(
      eve.syncConversation({ sessionType: 7, sessionId: ids.dan, afterServerMsgId: 0 }),
    ).rejects.toMatchObject({ detail: { errorName: 'IM_ERR_INVALID_ARGUMENT' } });
    await expect(
      eve.syncConversation({ sessionType: SessionType.GROUP, sessionId: 987_654, afterServerMsgId: 0 }),
    ).rejects.toMatchObject({ detail: { errorName: 'IM_ERR_NOT_FOUND' } });
  });

  it('sync - a cursor larger than the server takes is refused with a clear code, and the connection lives', async () => {
    const raw = await RawClient.connect('tcp', s.ports.tcp);
    try {
      await raw.login('gus');
      const positions = Array.from({ length: 20_001 }, (_, i) => ({
        sessionType: 1,
        sessionId: i + 1,
        serverMsgId: 1,
      }));
      raw.send(CommandId.SYNC_REQ, 7, encodeBody(CommandId.SYNC_REQ, { cursor: { positions } }));
      const notify = await raw.next(CommandId.ERROR_NOTIFY, 10_000);
      expect(CIM.Ext.MqimErrorNotify.decode(notify.body)).toMatchObject({
        errorName: 'IM_ERR_PAYLOAD_TOO_LARGE',
        requestSeq: 7,
      });
      raw.send(CommandId.SYNC_REQ, 8, encodeBody(CommandId.SYNC_REQ, {}));
      const rsp = await raw.next(CommandId.SYNC_RSP, 10_000);
      expect(rsp.seq).toBe(8);
      expect(decodeBody(CommandId.SYNC_RSP, rsp.body).hasMore).toBe(false);
      expect(raw.closed).toBe(false);
    } finally {
      raw.close();
    }
  });
});

describe('recall', () => {
  it('recall - the sender recalls; every device of both sides is told; history and sync withhold the body', async () => {
    const ann = await login('ann');
    const annOther = await login('ann', 'ws');
    const fayTcp = await login('fay');
    const fayWs = await login('fay', 'ws');
    const notices: Record<string, RecallNotice[]> = { annOther: [], fayTcp: [], fayWs: [] };
    annOther.on('recalled', (n) => notices.annOther!.push(n));
    fayTcp.on('recalled', (n) => notices.fayTcp!.push(n));
    fayWs.on('recalled', (n) => notices.fayWs!.push(n));
    const tips: ImMessage[] = [];
    fayWs.on('message', (m) => {
      if (m.msgType === MsgType.TIPS) tips.push(m);
    });

    const oops = await ann.send({ to: ids.fay, text: 'oops, wrong chat' });
    await ann.send({ to: ids.fay, text: 'kept' });
    const result = await ann.recall({
      sessionType: SessionType.SINGLE,
      sessionId: ids.fay,
      serverMsgId: oops.serverMsgId,
    });
    expect(result.recalledAt).toBeGreaterThan(0);

    await waitFor(() => Object.values(notices).every((n) => n.length === 1) && tips.length === 1, {
      timeoutMs: 10_000,
      message: 'not every device was told of the recall',
    });
    expect(notices.fayTcp![0]).toMatchObject({
      sessionType: SessionType.SINGLE,
      sessionId: ids.ann,
      serverMsgId: oops.serverMsgId,
      clientMsgId: oops.clientMsgId,
      fromUserId: ids.ann,
      recalledBy: ids.ann,
      recalledAt: result.recalledAt,
    });
    expect(notices.annOther![0]).toMatchObject({ sessionId: ids.fay, serverMsgId: oops.serverMsgId });
    expect(JSON.parse(tips[0]!.text ?? new TextDecoder().decode(tips[0]!.data))).toMatchObject({
      tipsType: 'recall',
      serverMsgId: String(oops.serverMsgId),
    });
    expect(notices.fayTcp![0]!.noticeMsgId).toBe(tips[0]!.serverMsgId);

    for (const reader of [fayTcp, ann]) {
      const peer = reader === ann ? ids.fay : ids.ann;
      const page = await reader.history({ sessionType: SessionType.SINGLE, sessionId: peer, limit: 10 });
      const recalled = page.find((m) => m.serverMsgId === oops.serverMsgId)!;
      expect(recalled).toMatchObject({
        recalled: true,
        status: RECALLED_STATUS,
        clientMsgId: oops.clientMsgId,
      });
      expect(recalled.data).toHaveLength(0);
      expect(page.find((m) => m.text === 'kept')?.recalled).toBe(false);
    }
    const synced = await syncAll(fayTcp, { positions: [] }, { maxConversations: 20, maxMessages: 50 });
    const conv = synced.got.get(`1:${ids.ann}`)!;
    expect(conv.find((m) => m.serverMsgId === oops.serverMsgId)).toMatchObject({
      recalled: true,
      data: new Uint8Array(0),
    });
    // The notice is the newest message of the conversation: sync carries the recall to a device
    // that was offline when it happened.
    expect(conv[conv.length - 1]!.serverMsgId).toBe(tips[0]!.serverMsgId);

    // Again (a retry): the same answer, no second notice.
    const twice = await ann.recall({
      sessionType: SessionType.SINGLE,
      sessionId: ids.fay,
      serverMsgId: oops.serverMsgId,
    });
    expect(twice.recalledAt).toBe(result.recalledAt);
    const after = await fayTcp.history({ sessionType: SessionType.SINGLE, sessionId: ids.ann, limit: 50 });
    expect(after.filter((m) => m.msgType === MsgType.TIPS)).toHaveLength(1);
  });

  it('recall - refused: the peer, an unknown id, a notice, past the window; nothing changes', async () => {
    const ben = await login('ben');
    const dan = await login('dan');
    const m = await ben.send({ to: ids.dan, text: 'mine' });
    const refused = (p: Promise<unknown>) =>
      p.then(
        () => undefined,
        (e: { detail?: { errorName: string } }) => e.detail?.errorName,
      );
    expect(
      await refused(
        dan.recall({ sessionType: SessionType.SINGLE, sessionId: ids.ben, serverMsgId: m.serverMsgId }),
      ),
    ).toBe('IM_ERR_FORBIDDEN');
    expect(
      await refused(
        ben.recall({ sessionType: SessionType.SINGLE, sessionId: ids.dan, serverMsgId: 999_999 }),
      ),
    ).toBe('IM_ERR_NOT_FOUND');
    expect(
      await refused(ben.recall({ sessionType: SessionType.SINGLE, sessionId: ids.ben, serverMsgId: 1 })),
    ).toBe('IM_ERR_INVALID_ARGUMENT');
    // A message older than the window (60 s here): stored directly with an old clock.
    const old = Math.floor(Date.now() / 1000) - 3600;
    const oldId = m.serverMsgId + 100;
    await s.store.messages.save(
      {
        serverMsgId: oldId,
        clientMsgId: `old-${oldId}`,
        fromUserId: ids.ben,
        sessionType: 1,
        toSessionId: ids.dan,
        msgType: 1,
        msgData: Buffer.from('old'),
        createTime: old,
      },
      [ids.ben, ids.dan],
    );
    expect(
      await refused(ben.recall({ sessionType: SessionType.SINGLE, sessionId: ids.dan, serverMsgId: oldId })),
    ).toBe('IM_ERR_RECALL_WINDOW_PASSED');
    const page = await dan.history({ sessionType: SessionType.SINGLE, sessionId: ids.ben, limit: 10 });
    expect(page.every((x) => !x.recalled)).toBe(true);
    expect(page.some((x) => x.msgType === MsgType.TIPS)).toBe(false);
  });

  it('recall - in a group the owner recalls a member message, a member cannot; every member is told', async () => {
    const owner = await login('cat');
    const member = await login('dan', 'ws');
    const other = await login('eve');
    const { group } = await owner.createGroup({ name: 'recall team', memberIds: [ids.dan, ids.eve] });
    const told: RecallNotice[] = [];
    for (const c of [owner, member, other]) c.on('recalled', (n) => told.push(n));
    const m1 = await member.send({ to: group.groupId, sessionType: SessionType.GROUP, text: 'spam' });
    const m2 = await owner.send({ to: group.groupId, sessionType: SessionType.GROUP, text: 'owner says' });
    await expect(
      other.recall({ sessionType: SessionType.GROUP, sessionId: group.groupId, serverMsgId: m1.serverMsgId }),
    ).rejects.toMatchObject({ detail: { errorName: 'IM_ERR_FORBIDDEN' } });
    await expect(
      member.recall({
        sessionType: SessionType.GROUP,
        sessionId: group.groupId,
        serverMsgId: m2.serverMsgId,
      }),
    ).rejects.toMatchObject({ detail: { errorName: 'IM_ERR_FORBIDDEN' } });
    await owner.recall({
      sessionType: SessionType.GROUP,
      sessionId: group.groupId,
      serverMsgId: m1.serverMsgId,
    });
    await waitFor(() => told.length === 3, { timeoutMs: 10_000, message: 'not every member was told' });
    expect(
      told.every(
        (n) => n.sessionId === group.groupId && n.recalledBy === ids.cat && n.fromUserId === ids.dan,
      ),
    ).toBe(true);
    const page = await other.history({ sessionType: SessionType.GROUP, sessionId: group.groupId, limit: 20 });
    expect(page.find((x) => x.serverMsgId === m1.serverMsgId)?.recalled).toBe(true);
    expect(page.find((x) => x.serverMsgId === m2.serverMsgId)?.text).toBe('owner says');
  });
});
