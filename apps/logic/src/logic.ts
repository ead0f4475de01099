import { EventPublisher, type MessageBus, type ReceivedMessage, type Subscription } from '@mqim/bus';
import type { Cache } from '@mqim/cache';
import type { Logger } from '@mqim/config';
import { GatePublisher } from '@mqim/delivery';
import type { MqimMetrics } from '@mqim/metrics';
import {
  CommandId,
  DEFAULT_LANES,
  MqNames,
  commandName,
  decodeUpstream,
  isClientFault,
  longToNumber,
  type OrderedRequest,
  type mqim,
} from '@mqim/protocol';
import type { Store } from '@mqim/store';
import { KnownUsers } from './known-users';
import { KnownBlocks } from './known-blocks';
import { handleLogin } from './login.handler';
import type { LogicDeps, LogicOptions } from './logic-deps';
import { handleHistory, handleLatestMsgId, handleMsgsById, handleRecentSessions } from './query.handlers';
import { handleReadAck } from './read.handler';
import { RequestContext } from './request-context';
import { TapPublisher } from './tap.publisher';
import { handleSend } from './send.handler';
import { IntentPublisher } from './intent.publisher';
import { groupHandlers } from './group.handlers';
import { groupRoleHandlers } from './group-roles.handlers';
import { scheduleHandlers } from './schedule.handlers';
import { BeforeSendHook } from './before-send.hook';
import { handleSync, handleSyncConv } from './sync.handlers';
import { handleRecall } from './recall.handler';
import {
  handleFriendBlock,
  handleFriendList,
  handleFriendRemove,
  handleFriendRequest,
  handleFriendRequestList,
  handleFriendRespond,
  handleProfileUpdate,
} from './contact.handlers';
import {
  handlePresenceChanged,
  handlePresenceQuery,
  handlePresenceSubscribe,
  handleTyping,
} from './presence.handlers';
import { VoipTimers, voipHandlers } from './voip.handlers';

type Handler = (deps: LogicDeps, ctx: RequestContext) => Promise<void>;

const HANDLERS = new Map<number, Handler>([
  [CommandId.LOGIN_AUTH_TOKEN_REQ, handleLogin],
  [CommandId.LOGIN_AUTH_REQ, handleLogin],
  [CommandId.MSG_DATA, handleSend],
  [CommandId.MSG_READ_ACK, handleReadAck],
  [CommandId.LIST_RECENT_CONTACT_SESSION_REQ, handleRecentSessions],
  [CommandId.LIST_MSG_REQ, handleHistory],
  [CommandId.MSG_GET_LATEST_MSG_ID_REQ, handleLatestMsgId],
  [CommandId.MSG_GET_BY_MSG_ID_REQ, handleMsgsById],
  [CommandId.FRIEND_QUERY_USER_LIST_REQ, handleFriendList],
  ...groupHandlers,
  ...groupRoleHandlers,
  [CommandId.SYNC_CONV_REQ, handleSyncConv],
  [CommandId.SYNC_REQ, handleSync],
  [CommandId.RECALL_REQ, handleRecall],
  // Issue 12: typing, presence, contacts, profile (0x0820-0x083F).
  [CommandId.TYPING, handleTyping],
  [CommandId.PRESENCE_QUERY_REQ, handlePresenceQuery],
  [CommandId.PRESENCE_SUBSCRIBE_REQ, handlePresenceSubscribe],
  [CommandId.PRESENCE_CHANGED, handlePresenceChanged],
  [CommandId.FRIEND_REQUEST_REQ, handleFriendRequest],
  [CommandId.FRIEND_RESPOND_REQ, handleFriendRespond],
  [CommandId.FRIEND_REMOVE_REQ, handleFriendRemove],
  [CommandId.FRIEND_BLOCK_REQ, handleFriendBlock],
  [CommandId.FRIEND_REQUEST_LIST_REQ, handleFriendRequestList],
  [CommandId.PROFILE_UPDATE_REQ, handleProfileUpdate],
  ...voipHandlers,
  ...scheduleHandlers,
]);

/**
 * The logic role: consumes client requests from the upstream topic (orderly: per conversation
 * for sends and read acks), checks, persists, answers and fans out. Stateless; run as many as
 * needed in one consumer group.
 *
 * Failure policy (`isClientFault`, docs/adr/0008): a *client* error (bad body, forbidden, not
 * found) is answered and the MQ message acked — retrying would fail the same way. Anything else
 * (database, cache or bus down, or a bug in our code) throws, so the message is not acked and comes
 * back, and is dead-lettered (logged as an error) when it keeps failing; the handlers are
 * request-keyed (docs/adr/0009), so a retry is safe.
 */
export class Logic {
  private readonly deps: LogicDeps;
  private subscription?: Subscription;
  /**
   * Requests of a batch already handled by an earlier attempt *in this process* (by MQ message
   * id): a retry after one conversation's failure re-runs only what is left, so the others are not
   * acked and delivered twice. Handlers are idempotent anyway; this only saves the repeats.
   */
  private readonly progress = new Map<string, Set<number>>();

  constructor(
    options: LogicOptions,
    base: { bus: MessageBus; store: Store; cache: Cache; metrics: MqimMetrics; logger: Logger },
  ) {
    const names = new MqNames(options.topicPrefix);
    this.deps = {
      ...base,
      logger: base.logger.child({ role: 'logic' }),
      names,
      options,
      // Answers produced within the window share one GateBatch.
      replier: new GatePublisher(base.bus, names, base.metrics, {
        windowMs: options.mqWindowMs ?? 1,
        tag: 'reply',
        minIntervalMs: options.mqPaceMs ?? 4,
      }),
      // Not a background stream: the upstream lane (FIFO) is acked only once the tap is stored.
      tap: new TapPublisher(base.bus, names, base.metrics, options.mqWindowMs ?? 1, options.mqPaceMs ?? 4),
      events: new EventPublisher(base.bus, names, base.metrics, {
        source: 'logic',
        windowMs: options.mqWindowMs ?? 1,
        minIntervalMs: options.mqPaceMs ?? 4,
      }),
      intents: new IntentPublisher(base.bus, names, base.metrics, {
        lanes: options.lanes ?? DEFAULT_LANES,
        maxInFlight: options.intentInFlight ?? 2,
        minIntervalMs: options.mqPaceMs ?? 4,
      }),
      knownUsers: new KnownUsers(base.store.users),
      knownBlocks: new KnownBlocks(base.store.contacts),
      beforeSend: options.beforeSendHook
        ? new BeforeSendHook(
            options.beforeSendHook,
            base.logger.child({ role: 'logic', component: 'before-send' }),
          )
        : undefined,
      voipTimers: new VoipTimers(
        { bus: base.bus, names, logger: base.logger },
        options.lanes ?? DEFAULT_LANES,
      ),
    };
  }

  async start(): Promise<void> {
    const { names } = this.deps;
    this.subscription = await this.deps.bus.subscribeBatch(
      { topic: names.upstream, group: names.logicGroup, concurrency: this.deps.options.concurrency ?? 256 },
      (messages) => this.onUpstream(messages),
    );
  }

  async stop(): Promise<void> {
    this.deps.voipTimers?.stop();
    await this.subscription?.close();
  }

  /**
   * Consecutive upstream MQ messages of one lane (each a lane's batch, or one bare request from
   * an older gate), merged: requests with different order keys run in parallel, each key's
   * requests one after another in message and batch order. A request that fails for a reason of
   * ours stops its conversation there; the others finish, then the call throws so the messages
   * are redelivered, and the retry resumes at the failed request. The MQ messages are acked only
   * when every request of them has had all its effects.
   */
  private async onUpstream(messages: readonly ReceivedMessage[]): Promise<void> {
    const work: { request: mqim.v1.UpstreamRequest; done: Set<number>; index: number }[] = [];
    const progress: [string, Set<number>][] = [];
    for (const msg of messages) {
      let requests: OrderedRequest[];
      try {
        requests = decodeUpstream(msg.body, msg.tag, msg.messageGroup);
      } catch (err) {
        // Not ours to retry: a poison message would block its FIFO lane forever.
        this.deps.logger.error(
          { err: (err as Error).message, id: msg.id },
          'undecodable upstream message dropped',
        );
        continue;
      }
      const done = this.progress.get(msg.id) ?? new Set<number>();
      progress.push([msg.id, done]);
      for (let i = 0; i < requests.length; i++)
        if (!done.has(i)) work.push({ request: requests[i]!.request, done, index: i });
    }
    const chains = new Map<string, typeof work>();
    for (const item of work) {
      const key = item.request.orderKey;
      const chain = chains.get(key);
      if (chain) chain.push(item);
      else chains.set(key, [item]);
    }
    let failure: unknown;
    // Every failure seen, for the holds to release (an intent may fail under another key than
    // its request's, e.g. a group created from a user's lane).
    const failures: unknown[] = [];
    const attempt = messages[0]?.deliveryAttempt ?? 1;
    const runChain = async (chain: typeof work) => {
      // A request's deferred publishes (ctx.after) are on their way while the next one is handled:
      // a conversation pays the store round trip per message, not also the publish round trip.
      const started: { item: (typeof work)[number]; effects: Promise<void>; failures: readonly unknown[] }[] =
        [];
      for (const item of chain) {
        try {
          started.push({ item, ...(await this.onRequest(item.request, attempt)) });
        } catch (err) {
          failure ??= err;
          failures.push(err);
          break; // the rest of this conversation waits for the retry, in order
        }
      }
      // Done in order only: a request counts as done when its effects and all before it are
      // stored (the ordered publishers store a prefix, so nothing after a failure went out).
      for (let i = 0; i < started.length; i++) {
        try {
          await started[i]!.effects;
          started[i]!.item.done.add(started[i]!.item.index);
        } catch (err) {
          failure ??= err;
          // The later ones are redone by the retry; wait until none is in flight any more, so a
          // hold one of them may still cause is set before this call releases its holds.
          await Promise.allSettled(started.slice(i + 1).map((s) => s.effects));
          for (const s of started.slice(i)) failures.push(...s.failures);
          return;
        }
      }
    };
    try {
      if (chains.size === 1) await runChain(chains.values().next().value!);
      else await Promise.all(Array.from(chains.values(), runChain));
    } finally {
      // A failed intent publish held the conversations it carried so that nothing of theirs
      // overtook it; this call's conversations come back with these messages and resend in
      // order, so their holds end here (not other calls' holds: their conversations may still be
      // storing later messages).
      if (failure !== undefined)
        this.deps.intents.resume([
          ...chains.keys(),
          ...failures.flatMap((err) => this.deps.intents.heldBy(err)),
        ]);
    }
    if (failure !== undefined) {
      for (const [id, done] of progress) this.remember(id, done);
      throw failure;
    }
    for (const [id] of progress) this.progress.delete(id);
  }

  private remember(id: string, done: Set<number>): void {
    this.progress.delete(id);
    this.progress.set(id, done);
    // Bounded: a batch that went to another consumer or the dead-letter queue is forgotten.
    if (this.progress.size > 1024) this.progress.delete(this.progress.keys().next().value!);
  }

  /**
   * One request; resolves when it was handled or refused, with its deferred effects (resolving
   * when they are stored, rejecting if one failed); throws when it must be retried.
   */
  private async onRequest(
    req: mqim.v1.UpstreamRequest,
    attempt: number,
  ): Promise<{ effects: Promise<void>; failures: readonly unknown[] }> {
    const { metrics, logger } = this.deps;
    const started = performance.now();
    const handler = HANDLERS.get(req.cmd);
    if (!handler) {
      metrics.errors.inc({ code: 'IM_ERR_UNKNOWN_COMMAND' });
      return NO_EFFECTS;
    }
    const ctx = new RequestContext(req, longToNumber(req.userId), this.deps.replier, attempt);
    const isLogin = req.cmd === CommandId.LOGIN_AUTH_TOKEN_REQ || req.cmd === CommandId.LOGIN_AUTH_REQ;
    if (!isLogin && ctx.userId === 0) return NO_EFFECTS; // the gate never forwards these; a forged envelope is dropped
    try {
      await handler(this.deps, ctx);
      metrics.consumed.inc({ topic: 'upstream', result: 'ok' });
      // Wrapped: returned bare, the promise would be adopted and awaited here. Marked handled
      // now: it may fail while the chain is still busy with the next request (runChain awaits it
      // later), and an unhandled rejection ends the process.
      const effects = ctx.effects();
      effects.catch(() => undefined);
      return { effects, failures: ctx.failures };
    } catch (err) {
      // Only the request's own fault is answered and acked (docs/adr/0008); anything else — a
      // dependency down, or a bug (a TypeError has no code) — comes back, then is dead-lettered.
      if (isClientFault(err)) {
        metrics.errors.inc({ code: (err as { code?: string }).code ?? 'IM_ERR_BAD_BODY' });
        await ctx.replyError(err);
        metrics.consumed.inc({ topic: 'upstream', result: 'refused' });
        return NO_EFFECTS;
      }
      metrics.consumed.inc({ topic: 'upstream', result: 'retry' });
      logger.warn(
        { err: (err as Error).message, cmd: commandName(req.cmd), attempt },
        'upstream request failed; will be redelivered',
      );
      throw err;
    } finally {
      metrics.consumeSeconds.observe({ topic: 'upstream' }, (performance.now() - started) / 1000);
    }
  }
}

const NO_EFFECTS = { effects: Promise.resolve(), failures: [] as readonly unknown[] };
