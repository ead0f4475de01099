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

/** Tells the job which users are bots and where their conversations go (bots, ADR 0016). */
export interface BotDirectory {
  /** The webhook URL of each bot among `userIds` (one lookup per event batch, never stale). */
  webhooksOf(userIds: readonly number[]): Promise<Map<number, string>>;
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
 * receiver drops duplicates. A message to a bot user also goes to the bot's own webhook
 * (`bot_message`). The MQ message is acked once every request of its batch delivered or was
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
    // The bots among the single chats' peers: one lookup for the whole batch.
    const peers = events.flatMap((e) =>
      e.type === T.EVENT_TYPE_MESSAGE_STORED && e.message?.sessionType === SessionType.SINGLE
        ? [Number(e.message.fromUserId), Number(e.message.toSessionId)]
        : [],
    );
    const bots = this.bots && peers.length ? await this.bots.webhooksOf(peers) : new Map<number, string>();
    for (const e of events) {
      for (const [url, payload] of await this.payloadsOf(e, bots))
        posts.push(
          this.client.post(payload.id, JSON.stringify(payload), payload, { event: payload.event }, url),
        );
    }
    await Promise.all(posts);
  }

  private async payloadsOf(
    e: mqim.v1.IEvent,
    bots: ReadonlyMap<number, string>,
  ): Promise<Array<[string | undefined, ObserverPayload]>> {
    const at = Number(e.atMs ?? 0);
    const id = e.eventId ?? '';
    const out: Array<[string | undefined, ObserverPayload]> = [];
    const want = (name: ObserverEvent) => this.options.url !== undefined && this.options.events.has(name);
    switch (e.type) {
      case T.EVENT_TYPE_MESSAGE_STORED: {
        const m = e.message;
        if (!m) break;
        const from = Number(m.fromUserId);
        const to = Number(m.toSessionId);
        // A group's own notice (from = the group) is reported as group_changed.
        if (m.sessionType === SessionType.GROUP && from === to) break;
        // A message to a bot from a user; never a bot's message to another bot (two bots would
        // answer each other forever).
        const botUrl = m.sessionType === SessionType.SINGLE && !bots.has(from) ? bots.get(to) : undefined;
        if (!want('after_send') && !botUrl) break;
        const data = await this.messageData(m);
        if (want('after_send')) out.push([undefined, { id, event: 'after_send', at, data }]);
        // The bot's conversation: a message to it from a user (not its own answers).
        if (botUrl)
          out.push([botUrl, { id: `bot/${id}`, event: 'bot_message', at, data: { ...data, botUserId: to } }]);
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
