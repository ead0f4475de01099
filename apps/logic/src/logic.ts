import { GatePublisher, type MessageBus, type ReceivedMessage, type Subscription } from '@mqim/bus';
import type { Cache } from '@mqim/cache';
import type { Logger } from '@mqim/config';
import type { MqimMetrics } from '@mqim/metrics';
import { CommandId, MqNames, commandName, longToNumber, mqim } from '@mqim/protocol';
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
import { groupHandlers } from './group.handlers';

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
      replier: new GatePublisher(base.bus, names, base.metrics, { windowMs: 1, tag: 'reply' }),
      tap: new TapPublisher(base.bus, names, base.metrics),
      knownUsers: new KnownUsers(base.store.users),
    };
  }

  async start(): Promise<void> {
    const { names } = this.deps;
    this.subscription = await this.deps.bus.subscribe(
      { topic: names.upstream, group: names.logicGroup, concurrency: this.deps.options.concurrency ?? 256 },
      (msg) => this.onUpstream(msg),
    );
  }

  async stop(): Promise<void> {
    await this.subscription?.close();
  }

  private async onUpstream(msg: ReceivedMessage): Promise<void> {
    const { metrics, logger } = this.deps;
    const started = performance.now();
    let req: mqim.v1.UpstreamRequest;
    try {
      req = mqim.v1.UpstreamRequest.decode(msg.body);
    } catch (err) {
      // Not ours to retry: a poison message would block its FIFO group forever.
      logger.error({ err: (err as Error).message, id: msg.id }, 'undecodable upstream message dropped');
      return;
    }
    const handler = HANDLERS.get(req.cmd);
    if (!handler) {
      metrics.errors.inc({ code: 'IM_ERR_UNKNOWN_COMMAND' });
      return;
    }
    const ctx = new RequestContext(req, longToNumber(req.userId), this.deps.replier);
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
        { err: (err as Error).message, cmd: commandName(req.cmd), attempt: msg.deliveryAttempt },
        'upstream request failed; will be redelivered',
      );
      throw err;
    } finally {
      metrics.consumeSeconds.observe({ topic: 'upstream' }, (performance.now() - started) / 1000);
    }
  }
}

const REFUSALS = new Set(['IM_ERR_FORBIDDEN', 'IM_ERR_INVALID_ARGUMENT', 'IM_ERR_NOT_FOUND']);

function isRefusal(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && REFUSALS.has(code);
}
