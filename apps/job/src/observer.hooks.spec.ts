import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ReceivedMessage } from '@mqim/bus';
import { createLogger } from '@mqim/config';
import { mqim } from '@mqim/protocol';
import { SignedWebhookClient } from '@mqim/push';
import { startFakeWebhook, type FakeWebhook } from '@mqim/push/testing';
import { createSqliteStore, type Store } from '@mqim/store';
import { ObserverHooks, parseObserverEvents, type ObserverPayload } from './observer.hooks';

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

describe('ObserverHooks', () => {
  let fake: FakeWebhook;
  let store: Store;
  let dir: string;
  let client: SignedWebhookClient;
  const make = (events = '', bots?: Record<number, string>) =>
    new ObserverHooks(
      client,
      store,
      { url: fake.url, events: parseObserverEvents(events) },
      logger,
      bots
        ? {
            webhooksOf: async (ids) =>
              new Map(ids.filter((id) => bots[id]).map((id) => [id, bots[id]!] as [number, string])),
          }
        : undefined,
    );
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
});
