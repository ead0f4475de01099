import type { ReceivedMessage } from '@mqim/bus';
import type { Logger } from '@mqim/config';
import { CIM, SessionType, decodeEvents, mqim } from '@mqim/protocol';
import type { PushResult, SignedWebhookClient } from '@mqim/push';
import type { Store } from '@mqim/store';

/** The observer events a business server may subscribe to (MQIM_HOOK_OBSERVER_EVENTS). */
export const OBSERVER_EVENTS = ['after_send', 'group_changed', 'user_online', 'user_offline'] as const;
export type ObserverEvent = (typeof OBSERVER_EVENTS)[number];

/** The JSON body of an observer hook request (docs/api.md). */
export interface ObserverPayload {
  /** The domain event's id: the same for every retry and redelivery (`x-mqim-delivery`). */
  id: string;
  event: ObserverEvent | 'bot_message';
  /** Unix ms when the effect was durable. */
  at: number;
  data: Record<string, unknown>;
}

/** Where a bot's webhook calls go and the secret that signs them. */
export interface BotHook {
  url: string;
  /** The bot's own secret; undefined = the deployment's MQIM_HOOK_SECRET (a bot older than 0007). */
  secret?: string;
  /** A group bot: when it joined that group (Unix seconds); it gets nothing sent before. */
  joinedAt?: number;
}

/** Tells the job which users are bots and where their conversations go (bots, ADR 0016). */
export interface BotDirectory {
  /** The webhook of each bot among `userIds` (one lookup per event batch, never stale). */
  webhooksOf(userIds: readonly number[]): Promise<Map<number, BotHook>>;
  /** Per group among `groupIds`, its bot members and their webhooks (one lookup per batch). */
  inGroups(groupIds: readonly number[]): Promise<Map<number, Map<number, BotHook>>>;
}

export interface ObserverHooksOptions {
  /** Where observer events go; undefined = only bots' webhooks. */
  url?: string;
  events: ReadonlySet<ObserverEvent>;
}

const T = mqim.v1.EventType;
const CHANGE: Record<number, string> = {
  [mqim.v1.GroupChangeKind.GROUP_CHANGE_KIND_CREATED]: 'created',
  [mqim.v1.GroupChangeKind.GROUP_CHANGE_KIND_MEMBERS_ADDED]: 'members_added',
  [mqim.v1.GroupChangeKind.GROUP_CHANGE_KIND_MEMBERS_REMOVED]: 'members_removed',
  [mqim.v1.GroupChangeKind.GROUP_CHANGE_KIND_MEMBER_LEFT]: 'member_left',
  [mqim.v1.GroupChangeKind.GROUP_CHANGE_KIND_DISSOLVED]: 'dissolved',
};
/** Families the observer reads; others (delivered, read, push) are acked unread. */
const FAMILIES = new Set(['message', 'group', 'presence']);

/**
 * Observer webhooks and bots (ADR 0016), fed by the domain event stream (`<prefix>-events`, ADR
 * 0007) in the job's own consumer group: after a message is stored (`after_send`, with its
 * content read back from the store), after a group change, when a user's connection logs in or
 * closes. Each event is one signed POST through the push webhook's machinery (timeouts, retries,
 * dead letter); its delivery id is the event id, stable across retries and redeliveries, so the
 * receiver drops duplicates. A message to a bot user, or to a group a bot is a member of, also
 * goes to the bot's own webhook (`bot_message`), signed with the bot's own secret. The MQ message is acked once every request of its batch delivered or was
 * dead-lettered, so a job that dies meanwhile re-sends them (at least once).
 */
export class ObserverHooks {
  constructor(
    private readonly client: SignedWebhookClient,
    private readonly store: Store,
    private readonly options: ObserverHooksOptions,
    private readonly log: Logger,
    private readonly bots?: BotDirectory,
  ) {}

  async handle(message: ReceivedMessage): Promise<void> {
    if (message.tag && !FAMILIES.has(message.tag)) return;
    const posts: Promise<PushResult>[] = [];
    const events = decodeEvents(message.body);
    // Which senders and single-chat peers are bots, and which groups have bot members: two
    // lookups for the whole batch, whatever its size.
    const peers: number[] = [];
    const groups: number[] = [];
    for (const e of events) {
      const m = e.type === T.EVENT_TYPE_MESSAGE_STORED ? e.message : undefined;
      if (!m) continue;
      const from = Number(m.fromUserId);
      const to = Number(m.toSessionId);
      if (m.sessionType === SessionType.SINGLE) peers.push(from, to);
      else if (m.sessionType === SessionType.GROUP && from !== to) {
        peers.push(from);
        groups.push(to);
      }
    }
    const [bots, groupBots] = await Promise.all([
      this.bots && peers.length ? this.bots.webhooksOf(peers) : new Map<number, BotHook>(),
      this.bots && groups.length ? this.bots.inGroups(groups) : new Map<number, Map<number, BotHook>>(),
    ]);
    for (const e of events) {
      for (const [hook, payload] of await this.payloadsOf(e, bots, groupBots))
        posts.push(
          this.client.post(payload.id, JSON.stringify(payload), payload, { event: payload.event }, hook),
        );
    }
    await Promise.all(posts);
  }

  /** The bots a stored message goes to, with the delivery id of each (none for a bot's own). */
  private botsFor(
    m: mqim.v1.IPersistedMessage,
    id: string,
    bots: ReadonlyMap<number, BotHook>,
    groupBots: ReadonlyMap<number, ReadonlyMap<number, BotHook>>,
  ): Array<[number, BotHook, string]> {
    const from = Number(m.fromUserId);
    const to = Number(m.toSessionId);
    // Never a bot's message to another bot or to a group with bots: two bots would answer each
    // other forever. A bot's own group messages are not echoed back to it either.
    if (bots.has(from)) return [];
    if (m.sessionType === SessionType.SINGLE) {
      const hook = bots.get(to);
      return hook ? [[to, hook, `bot/${id}`]] : [];
    }
    if (m.sessionType !== SessionType.GROUP) return [];
    // Every bot member gets every message of the group (the protocol has no mentions to filter
    // on); the delivery id names the bot, as one event goes to several. Membership is read when
    // the event is handled, which may be late (a lagging job, a redelivery): a bot that joined
    // after the message was sent must not get it.
    const sentAt = Number(m.createTime ?? 0);
    return [...(groupBots.get(to) ?? new Map<number, BotHook>())]
      .filter(([, hook]) => hook.joinedAt === undefined || hook.joinedAt <= sentAt)
      .map(([botId, hook]): [number, BotHook, string] => [botId, hook, `bot/${botId}/${id}`]);
  }

  private async payloadsOf(
    e: mqim.v1.IEvent,
    bots: ReadonlyMap<number, BotHook>,
    groupBots: ReadonlyMap<number, ReadonlyMap<number, BotHook>>,
  ): Promise<Array<[BotHook | undefined, ObserverPayload]>> {
    const at = Number(e.atMs ?? 0);
    const id = e.eventId ?? '';
    const out: Array<[BotHook | undefined, ObserverPayload]> = [];
    const want = (name: ObserverEvent) => this.options.url !== undefined && this.options.events.has(name);
    switch (e.type) {
      case T.EVENT_TYPE_MESSAGE_STORED: {
        const m = e.message;
        if (!m) break;
        const from = Number(m.fromUserId);
        const to = Number(m.toSessionId);
        // A group's own notice (from = the group) is reported as group_changed.
        if (m.sessionType === SessionType.GROUP && from === to) break;
        const targets = this.botsFor(m, id, bots, groupBots);
        if (!want('after_send') && targets.length === 0) break;
        const data = await this.messageData(m);
        if (want('after_send')) out.push([undefined, { id, event: 'after_send', at, data }]);
        for (const [botUserId, hook, botId] of targets)
          out.push([hook, { id: botId, event: 'bot_message', at, data: { ...data, botUserId } }]);
        break;
      }
      case T.EVENT_TYPE_GROUP_CREATED:
      case T.EVENT_TYPE_GROUP_CHANGED:
      case T.EVENT_TYPE_GROUP_DISSOLVED: {
        const g = e.group;
        if (!g || !want('group_changed')) break;
        out.push([
          undefined,
          {
            id,
            event: 'group_changed',
            at,
            data: {
              groupId: Number(g.groupId),
              change: CHANGE[g.kind ?? 0] ?? 'changed',
              by: Number(e.actorUserId ?? 0),
              userIds: (g.userIds ?? []).map(Number),
              name: g.groupName ?? '',
              ownerId: Number(g.ownerUserId ?? 0),
              memberCount: g.memberCount ?? 0,
              noticeMsgId: Number(g.noticeMsgId ?? 0),
            },
          },
        ]);
        break;
      }
      case T.EVENT_TYPE_USER_ONLINE:
      case T.EVENT_TYPE_USER_OFFLINE: {
        const p = e.presence;
        const online = e.type === T.EVENT_TYPE_USER_ONLINE;
        if (!p || !want(online ? 'user_online' : 'user_offline')) break;
        out.push([
          undefined,
          {
            id,
            event: online ? 'user_online' : 'user_offline',
            at,
            data: {
              userId: Number(p.userId),
              gateId: p.gateId ?? '',
              connId: p.connId ?? '',
              clientType: p.clientType ?? 0,
              ...(online ? {} : { reason: p.reason ?? '', onlineMs: Number(p.onlineMs ?? 0) }),
            },
          },
        ]);
        break;
      }
      default:
        break;
    }
    return out;
  }

  /** The stored message, content included (read back by its sender and client id). */
  private async messageData(m: mqim.v1.IPersistedMessage): Promise<Record<string, unknown>> {
    const from = Number(m.fromUserId);
    const row = await this.store.messages.findSent(from, m.clientMsgId ?? '');
    const data: Record<string, unknown> = {
      serverMsgId: Number(m.serverMsgId),
      clientMsgId: m.clientMsgId ?? '',
      from,
      sessionType: m.sessionType ?? 0,
      to: Number(m.toSessionId),
      msgType: m.msgType ?? 0,
      createTime: m.createTime ?? 0,
    };
    if (!row) {
      this.log.warn({ from, clientMsgId: m.clientMsgId }, 'observer hook: stored message not found');
      return data;
    }
    const bytes = Buffer.from(row.msgData);
    if (row.msgType === CIM.Def.CIMMsgType.MSG_TYPE_TEXT) data.text = bytes.toString('utf8');
    data.data = bytes.toString('base64');
    return data;
  }
}

/** `MQIM_HOOK_OBSERVER_EVENTS`: a comma list of OBSERVER_EVENTS (empty = all). */
export function parseObserverEvents(list: string): Set<ObserverEvent> {
  const names = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (names.length === 0) return new Set(OBSERVER_EVENTS);
  for (const n of names)
    if (!(OBSERVER_EVENTS as readonly string[]).includes(n))
      throw new Error(`unknown observer event "${n}" (known: ${OBSERVER_EVENTS.join(', ')})`);
  return new Set(names as ObserverEvent[]);
}
