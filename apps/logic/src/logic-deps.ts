import type { EventPublisher, MessageBus } from '@mqim/bus';
import type { GatePublisher } from '@mqim/delivery';
import type { AttemptPolicy, Cache } from '@mqim/cache';
import type { Logger } from '@mqim/config';
import type { MqimMetrics } from '@mqim/metrics';
import type { MqNames } from '@mqim/protocol';
import type { Store } from '@mqim/store';
import type { TapPublisher } from './tap.publisher';
import type { KnownUsers } from './known-users';
import type { KnownBlocks } from './known-blocks';
import type { IntentPublisher } from './intent.publisher';
import type { BeforeSendHook, BeforeSendHookOptions } from './before-send.hook';
import type { VoipTimers } from './voip.handlers';

export interface LogicOptions {
  topicPrefix: string;
  historyLimitMax: number;
  /** msg_data bytes one history page may carry; it keeps the newest that fit. @default 262144 */
  historyMaxBytes?: number;
  maxMsgDataBytes: number;
  /** How long after its create_time a message may be recalled (0x0814). @default 120 */
  recallWindowSec?: number;
  loginPolicy: 'many' | 'per-type' | 'single';
  /**
   * Messages worked on at once (per subscription). Each one mostly waits (store, cache, bus), so
   * this bounds throughput at about concurrency / per-message latency. @default 256
   */
  concurrency?: number;
  /** Lanes of `im-deliver` (the same on every logic). @default DEFAULT_LANES (4, as MQIM_LANES) */
  lanes?: number;
  /** Intent publishes in flight across all lanes. @default 2 */
  intentInFlight?: number;
  /** Batched publishes (intents, replies, tap) at most once per slot or target per this many ms. @default 4 */
  mqPaceMs?: number;
  /**
   * How long replies, tap records and events gather before their batch goes when nothing of theirs
   * is in flight; 0: until the current macrotask ends. @default 1
   */
  mqWindowMs?: number;
  /**
   * A send's 0x0302 ack travels in its delivery intent and the job writes it into the sender's
   * gate batch with the deliveries, instead of logic publishing it to the gate topic itself (one
   * gate-topic message less per message; needs a job that knows DeliveryIntent.reply). @default false
   */
  ackViaJob?: boolean;
  /**
   * Failed-login backoff, per user (name or id) and per connection. @default DEFAULT_LOGIN_THROTTLE
   */
  loginThrottle?: LoginThrottleOptions;
  /** What one user may ask of groups. @default DEFAULT_GROUP_LIMITS */
  groupLimits?: GroupLimits;
  /** The business server's before-send webhook; none when unset. */
  beforeSendHook?: BeforeSendHookOptions;
  /** An unanswered call invite is ended (CANCEL) after this long. @default 60000 */
  voipRingTimeoutMs?: number;
  /** An answered call is forgotten this long after the answer or the last VoIP heartbeat. @default 7200000 */
  voipCallTtlMs?: number;
}

/** Bounds on group write amplification (issue 10 #6): every member listed costs rows and notices. */
export interface GroupLimits {
  /** Member ids one create or invite request may list; longer lists are refused whole. */
  maxMembersPerRequest: number;
  /**
   * Group creations per user: `freeFailures` + 1 within the window, then each further one waits
   * out a doubling block (counted per created group; a refused creation is not counted).
   */
  create: AttemptPolicy;
}

/** 500 members per request; 10 creations per user, then 1 min, 2 min ... up to 1 h. */
export const DEFAULT_GROUP_LIMITS: GroupLimits = {
  maxMembersPerRequest: 500,
  create: { freeFailures: 9, baseBlockMs: 60_000, maxBlockMs: 3_600_000, windowMs: 3_600_000 },
};

export interface LoginThrottleOptions {
  /** Failures counted against the user name (password login) or user id (token login). */
  user: AttemptPolicy;
  /** Failures counted against one client connection, whichever users it tries. */
  connection: AttemptPolicy;
  /**
   * Failures counted against the client's IP address (gates 0.2+ send it), whichever connections
   * and users: a guesser opening a new connection per try. Generous, as NAT puts many users on one.
   */
  address?: AttemptPolicy;
}

/** 5 free guesses per user then 1 s, 2 s, 4 s ... up to 5 min; 10 per connection, up to 1 min. */
export const DEFAULT_LOGIN_THROTTLE: LoginThrottleOptions = {
  user: { freeFailures: 5, baseBlockMs: 1_000, maxBlockMs: 300_000, windowMs: 900_000 },
  connection: { freeFailures: 10, baseBlockMs: 1_000, maxBlockMs: 60_000, windowMs: 900_000 },
  address: { freeFailures: 100, baseBlockMs: 1_000, maxBlockMs: 300_000, windowMs: 900_000 },
};

/** Everything a handler may touch. Handlers are plain functions of (deps, request). */
export interface LogicDeps {
  bus: MessageBus;
  store: Store;
  cache: Cache;
  metrics: MqimMetrics;
  logger: Logger;
  names: MqNames;
  replier: GatePublisher;
  tap: TapPublisher;
  /** The domain event stream (`<prefix>-events`): published after each effect is durable. */
  events: EventPublisher;
  intents: IntentPublisher;
  knownUsers: KnownUsers;
  /** Whom recipients block (the send path's check, cached briefly). */
  knownBlocks: KnownBlocks;
  beforeSend?: BeforeSendHook;
  /** Ends call invites that ring out; absent in handler specs that do not need it. */
  voipTimers?: VoipTimers;
  options: LogicOptions;
}
