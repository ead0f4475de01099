import { createHmac } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ReceivedMessage } from '@mqim/bus';
import { createLogger } from '@mqim/config';
import { mqim } from '@mqim/protocol';
import { SignedWebhookClient } from '@mqim/push';
import { startFakeWebhook, type FakeWebhook } from '@mqim/push/testing';
import { createSqliteStore, type Store } from '@mqim/store';
import { ObserverHooks, parseObserverEvents, type BotHook, type ObserverPayload } from './observer.hooks';

const logger = createLogger('test', 'silent');
const T = mqim.v1.EventType;

function batch(tag: string, ...events: mqim.v1.IEvent[]): ReceivedMessage {
  return {
    id: 'm1',
    topic: 'im-events',
    tag,
    keys: [],
    deliveryAttempt: 1,
    bornAt: Date.now(),
    body: mqim.v1.EventBatch.encode({ events }).finish(),
  };
}

const stored = (clientMsgId: string, from = 3, to = 4): mqim.v1.IEvent => ({
  eventId: `msg/s:${from}:${to}/1`,
  type: T.EVENT_TYPE_MESSAGE_STORED,
  atMs: 1_700_000_000_000,
  actorUserId: from,
  message: {
    serverMsgId: 1,
    clientMsgId,
    fromUserId: from,
    sessionType: 1,
    toSessionId: to,
    msgType: 1,
    createTime: 1_700_000_000,
  },
});

/** A message stored in group `group` from `from` (`from` = `group`: the group's own notice). */
const inGroup = (clientMsgId: string, from: number, group: number, seq = 1): mqim.v1.IEvent => ({
  eventId: `msg/g:${group}/${seq}`,
  type: T.EVENT_TYPE_MESSAGE_STORED,
  atMs: 1_700_000_000_000,
  actorUserId: from,
  message: {
    serverMsgId: seq,
    clientMsgId,
    fromUserId: from,
    sessionType: 2,
    toSessionId: group,
    msgType: 1,
    createTime: 1_700_000_000,
  },
});

describe('ObserverHooks', () => {
  let fake: FakeWebhook;
  let store: Store;
  let dir: string;
  let client: SignedWebhookClient;
  /** `bots`: user id -> webhook; `groups`: group id -> its bot members' ids (bots among `bots`). */
  const make = (
    events = '',
    bots?: Record<number, string | BotHook>,
    groups: Record<number, number[]> = {},
  ) => {
    const hookOf = (id: number): BotHook => {
      const b = bots![id]!;
      return typeof b === 'string' ? { url: b } : b;
    };
    return new ObserverHooks(
      client,
      store,
      { url: fake.url, events: parseObserverEvents(events) },
      logger,
      bots
        ? {
            webhooksOf: async (ids) =>
              new Map(ids.filter((id) => bots[id]).map((id) => [id, hookOf(id)] as [number, BotHook])),
            inGroups: async (ids) =>
              new Map(
                ids
                  .filter((g) => groups[g])
                  .map((g) => [g, new Map(groups[g]!.map((id) => [id, hookOf(id)] as [number, BotHook]))]),
              ),
          }
        : undefined,
    );
  };
  const received = () => fake.delivered as unknown as ObserverPayload[];

  beforeEach(async () => {
    fake = await startFakeWebhook();
    dir = await mkdtemp(join(tmpdir(), 'mqim-hooks-'));
    store = await createSqliteStore({ filename: ':memory:' });
    client = new SignedWebhookClient({
      url: fake.url,
      secret: fake.secret,
      logger,
      kind: 'hook',
      deadLetterTag: { kind: 'hook' },
      deadLetterFile: join(dir, 'hooks.jsonl'),
      retry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 100 },
    });
    await store.messages.save(
      {
        serverMsgId: 1,
        clientMsgId: 'c-1',
        fromUserId: 3,
        sessionType: 1,
        toSessionId: 4,
        msgType: 1,
        msgData: Buffer.from('hello there'),
        createTime: 1_700_000_000,
      },
      [3, 4],
    );
  });
  afterEach(async () => {
    await client.close();
    await fake.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('hooks - after_send is a signed POST with the stored content, keyed by the event id', async () => {
    await make().handle(batch('message', stored('c-1')));
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]!.verified).toBe(true);
    expect(fake.requests[0]!.headers['x-mqim-delivery']).toBe('msg/s:3:4/1');
    expect(received()[0]).toEqual({
      id: 'msg/s:3:4/1',
      event: 'after_send',
      at: 1_700_000_000_000,
      data: {
        serverMsgId: 1,
        clientMsgId: 'c-1',
        from: 3,
        sessionType: 1,
        to: 4,
        msgType: 1,
        createTime: 1_700_000_000,
        text: 'hello there',
        data: Buffer.from('hello there').toString('base64'),
      },
    });
  });

  it('hooks - group changes and presence become group_changed, user_online and user_offline', async () => {
    const hooks = make();
    await hooks.handle(
      batch('group', {
        eventId: 'grp/12/1',
        type: T.EVENT_TYPE_GROUP_CREATED,
        atMs: 5,
        actorUserId: 3,
        group: {
          groupId: 12,
          kind: 1,
          userIds: [4, 5],
          noticeMsgId: 1,
          groupName: 'g',
          ownerUserId: 3,
          memberCount: 3,
        },
      }),
    );
    await hooks.handle(
      batch(
        'presence',
        {
          eventId: 'on/g1/c1',
          type: T.EVENT_TYPE_USER_ONLINE,
          atMs: 6,
          presence: { userId: 4, gateId: 'g1', connId: 'c1', clientType: 2 },
        },
        {
          eventId: 'off/g1/c1',
          type: T.EVENT_TYPE_USER_OFFLINE,
          atMs: 7,
          presence: {
            userId: 4,
            gateId: 'g1',
            connId: 'c1',
            clientType: 2,
            reason: 'logout',
            onlineMs: 1000,
          },
        },
      ),
    );
    expect(received().map((p) => [p.event, p.id])).toEqual([
      ['group_changed', 'grp/12/1'],
      ['user_online', 'on/g1/c1'],
      ['user_offline', 'off/g1/c1'],
    ]);
    expect(received()[0]!.data).toMatchObject({
      groupId: 12,
      change: 'created',
      by: 3,
      userIds: [4, 5],
      memberCount: 3,
    });
    expect(received()[2]!.data).toMatchObject({ userId: 4, reason: 'logout', onlineMs: 1000 });
  });

  it('hooks - only the configured events are sent; delivered/read/push families are skipped', async () => {
    await make('user_online').handle(batch('message', stored('c-1')));
    await make('user_online').handle(batch('read', { eventId: 'read/1', type: T.EVENT_TYPE_READ }));
    expect(fake.requests).toHaveLength(0);
    expect(() => parseObserverEvents('after_send,bogus')).toThrow(/bogus/);
  });

  it('hooks - a failing receiver is retried with the same delivery id, then dead-lettered; the batch still completes', async () => {
    fake.failNext({ status: 503 }, 1);
    await make().handle(batch('message', stored('c-1')));
    expect(fake.requests.map((r) => r.status)).toEqual([503, 204]);
    expect(new Set(fake.requests.map((r) => r.headers['x-mqim-delivery']))).toEqual(new Set(['msg/s:3:4/1']));
    fake.alwaysReply({ status: 500 });
    await make().handle(batch('message', stored('c-1')));
    const lines = (await readFile(join(dir, 'hooks.jsonl'), 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      kind: 'hook',
      attempts: 3,
      payload: { event: 'after_send' },
    });
  });

  it('hooks - a message to a bot also goes to the bot webhook; the bot’s answers and bot-to-bot messages do not', async () => {
    const hooks = make('user_online', { 4: `${fake.url}?bot=4` });
    await hooks.handle(batch('message', stored('c-1')));
    expect(received()).toHaveLength(1);
    expect(received()[0]).toMatchObject({
      id: 'bot/msg/s:3:4/1',
      event: 'bot_message',
      data: { botUserId: 4, from: 3, text: 'hello there' },
    });
    expect(fake.requests[0]!.headers['x-mqim-delivery']).toBe('bot/msg/s:3:4/1');
    // The bot's answer (4 -> 3) goes to nobody's bot webhook.
    await hooks.handle(batch('message', stored('c-1', 4, 3)));
    // Both are bots: no bot request either way.
    await make('user_online', { 3: `${fake.url}?bot=3`, 4: `${fake.url}?bot=4` }).handle(
      batch('message', stored('c-1')),
    );
    expect(fake.requests).toHaveLength(1);
  });

  it('hooks - a group message goes to every bot member of the group, each under its own delivery id', async () => {
    const hooks = make(
      'user_online',
      { 7: `${fake.url}?bot=7`, 8: `${fake.url}?bot=8`, 9: `${fake.url}?bot=9` },
      {
        50: [7, 8],
        51: [9],
      },
    );
    await hooks.handle(batch('message', inGroup('c-1', 3, 50), inGroup('c-1', 3, 52, 2)));
    const got = received().map((p) => [
      p.id,
      p.event,
      p.data.botUserId,
      p.data.sessionType,
      p.data.to,
      p.data.text,
    ]);
    expect(got.sort()).toEqual([
      ['bot/7/msg/g:50/1', 'bot_message', 7, 2, 50, 'hello there'],
      ['bot/8/msg/g:50/1', 'bot_message', 8, 2, 50, 'hello there'],
    ]);
    expect(fake.requests.map((r) => r.headers['x-mqim-delivery']).sort()).toEqual([
      'bot/7/msg/g:50/1',
      'bot/8/msg/g:50/1',
    ]);
  });

  it('hooks - a bot that joined the group after a message was sent does not get it (a late or redelivered event)', async () => {
    const sentAt = 1_700_000_000; // inGroup's create_time
    const hooks = make(
      'user_online',
      {
        7: { url: `${fake.url}?bot=7`, joinedAt: sentAt - 60 },
        8: { url: `${fake.url}?bot=8`, joinedAt: sentAt },
        9: { url: `${fake.url}?bot=9`, joinedAt: sentAt + 1 },
      },
      { 50: [7, 8, 9] },
    );
    await hooks.handle(batch('message', inGroup('c-1', 3, 50)));
    expect(
      received()
        .map((p) => p.data.botUserId)
        .sort(),
    ).toEqual([7, 8]);
  });

  it('hooks - no bot hears a bot in a group (its own message, another bot member), nor the group’s notices', async () => {
    const hooks = make('user_online', { 7: `${fake.url}?bot=7`, 8: `${fake.url}?bot=8` }, { 50: [7, 8] });
    // The bot's answer in the group, the group's own notice (from = the group).
    await hooks.handle(batch('message', inGroup('c-1', 7, 50), inGroup('c-1', 50, 50, 2)));
    expect(fake.requests).toHaveLength(0);
    // A user's message reaches both: the fake is alive and the events above were really dropped.
    await hooks.handle(batch('message', inGroup('c-1', 3, 50, 3)));
    expect(fake.requests).toHaveLength(2);
  });

  it('hooks - a bot with its own secret is signed with it: verifies with that secret, not another bot’s nor the deployment’s', async () => {
    const own = await startFakeWebhook({ secret: 'secret-of-bot-4-0123456789' });
    try {
      const hooks = make('user_online', { 4: { url: own.url, secret: own.secret } }, { 50: [4] });
      await hooks.handle(batch('message', stored('c-1'), inGroup('c-1', 3, 50)));
      expect(own.requests).toHaveLength(2);
      for (const r of own.requests) {
        expect(r.verified).toBe(true);
        const ts = String(r.headers['x-mqim-timestamp']);
        const sign = (secret: string) =>
          `sha256=${createHmac('sha256', secret).update(`${ts}.${r.rawBody}`).digest('hex')}`;
        expect(r.headers['x-mqim-signature']).toBe(sign(own.secret));
        expect(r.headers['x-mqim-signature']).not.toBe(sign('secret-of-bot-5-0123456789'));
        expect(r.headers['x-mqim-signature']).not.toBe(sign(fake.secret));
      }
      // A bot without a secret of its own (flagged before migration 0007): the deployment's.
      await make('user_online', { 4: `${fake.url}?bot=4` }).handle(batch('message', stored('c-1')));
      expect(fake.requests).toHaveLength(1);
      expect(fake.requests[0]!.verified).toBe(true);
    } finally {
      await own.close();
    }
  });
});
