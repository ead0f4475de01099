import { GatePublisher, type MessageBus, type ReceivedMessage, type Subscription } from '@mqim/bus';
import type { Cache } from '@mqim/cache';
import type { Logger } from '@mqim/config';
import type { MqimMetrics } from '@mqim/metrics';
import {
  CommandId,
  DEFAULT_LANES,
  MqNames,
  commandName,
  decodeUpstream,
  longToNumber,
  type OrderedRequest,
  type mqim,
} from '@mqim/protocol';
import type { Store } from '@mqim/store';
import { KnownUsers } from './known-users';
import { isClientError, handleLogin } from './login.handler';
import type { LogicDeps, LogicOptions } from './logic-deps';
import {
  handleFriendList,
  handleHistory,
  handleLatestMsgId,
  handleMsgsById,
  handleRecentSessions,
} from './query.handlers';
import { handleReadAck } from './read.handler';
import { RequestContext } from './request-context';
import { TapPublisher } from './tap.publisher';
import { handleSend } from './send.handler';
import { IntentPublisher } from './intent.publisher';
import { groupHandlers } from './group.handlers';
import { BeforeSendHook } from './before-send.hook';

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
]);

/**
 * The logic role: consumes client requests from the upstream topic (orderly: per conversation
 * for sends and read acks), checks, persists, answers and fans out. Stateless; run as many as
 * needed in one consumer group.
 *
 * Failure policy: a *client* error (bad body, forbidden, not found) is answered and the MQ message
 * acked — retrying would fail the same way. Anything else (database, cache or bus down) throws, so
 * the message is not acked and comes back; the handlers are idempotent, so that is safe.
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
      // Answers produced within 1 ms share one GateBatch.
      replier: new GatePublisher(base.bus, names, base.metrics, {
        windowMs: 1,
        tag: 'reply',
        minIntervalMs: options.mqPaceMs ?? 4,
      }),
      tap: new TapPublisher(base.bus, names, base.metrics, 1, options.mqPaceMs ?? 4),
      intents: new IntentPublisher(base.bus, names, base.metrics, {
        lanes: options.lanes ?? DEFAULT_LANES,
        maxInFlight: options.intentInFlight ?? 2,
        minIntervalMs: options.mqPaceMs ?? 4,
      }),
      knownUsers: new KnownUsers(base.store.users),
      beforeSend: options.beforeSendHook
        ? new BeforeSendHook(
            options.beforeSendHook,
            base.logger.child({ role: 'logic', component: 'before-send' }),
          )
        : undefined,
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
    const attempt = messages[0]?.deliveryAttempt ?? 1;
    const runChain = async (chain: typeof work) => {
      for (const item of chain) {
        try {
          await this.onRequest(item.request, attempt);
          item.done.add(item.index);
        } catch (err) {
          failure ??= err;
          return; // the rest of this conversation waits for the retry, in order
        }
      }
    };
    if (chains.size === 1) await runChain(chains.values().next().value!);
    else await Promise.all(Array.from(chains.values(), runChain));
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

  /** One request; resolves when it was handled or refused, throws when it must be retried. */
  private async onRequest(req: mqim.v1.UpstreamRequest, attempt: number): Promise<void> {
    const { metrics, logger } = this.deps;
    const started = performance.now();
    const handler = HANDLERS.get(req.cmd);
    if (!handler) {
      metrics.errors.inc({ code: 'IM_ERR_UNKNOWN_COMMAND' });
      return;
    }
    const ctx = new RequestContext(req, longToNumber(req.userId), this.deps.replier, attempt);
    const isLogin = req.cmd === CommandId.LOGIN_AUTH_TOKEN_REQ || req.cmd === CommandId.LOGIN_AUTH_REQ;
    if (!isLogin && ctx.userId === 0) return; // the gate never forwards these; a forged envelope is dropped
    try {
      await handler(this.deps, ctx);
      metrics.consumed.inc({ topic: 'upstream', result: 'ok' });
    } catch (err) {
      if (isClientError(err) || isRefusal(err)) {
        metrics.errors.inc({ code: (err as { code?: string }).code ?? 'IM_ERR_BAD_BODY' });
        await ctx.replyError(err);
        metrics.consumed.inc({ topic: 'upstream', result: 'refused' });
        return;
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

const REFUSALS = new Set([
  'IM_ERR_FORBIDDEN',
  'IM_ERR_INVALID_ARGUMENT',
  'IM_ERR_NOT_FOUND',
  'IM_ERR_PAYLOAD_TOO_LARGE',
  'IM_ERR_USER_RATE_LIMITED',
  'IM_ERR_REFUSED_BY_HOOK',
]);

function isRefusal(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && REFUSALS.has(code);
}
