import type { GatePublisher, MessageBus } from '@mqim/bus';
import type { AttemptPolicy, Cache } from '@mqim/cache';
import type { Logger } from '@mqim/config';
import type { MqimMetrics } from '@mqim/metrics';
import type { MqNames } from '@mqim/protocol';
import type { Store } from '@mqim/store';
import type { TapPublisher } from './tap.publisher';
import type { KnownUsers } from './known-users';
import type { IntentPublisher } from './intent.publisher';

export interface LogicOptions {
  topicPrefix: string;
  historyLimitMax: number;
  /** msg_data bytes one history page may carry; it keeps the newest that fit. @default 262144 */
  historyMaxBytes?: number;
  maxMsgDataBytes: number;
  loginPolicy: 'many' | 'per-type' | 'single';
  /**
   * Messages worked on at once (per subscription). Each one mostly waits (store, cache, bus), so
   * this bounds throughput at about concurrency / per-message latency. @default 256
   */
  concurrency?: number;
  /** Lanes of `im-deliver` (the same on every logic). @default DEFAULT_LANES (32) */
  lanes?: number;
  /** Intent publishes in flight across all lanes. @default 2 */
  intentInFlight?: number;
  /** Batched publishes (intents, replies, tap) at most once per slot or target per this many ms. @default 4 */
  mqPaceMs?: number;
  /**
   * Failed-login backoff, per user (name or id) and per connection. @default DEFAULT_LOGIN_THROTTLE
   */
  loginThrottle?: LoginThrottleOptions;
}

export interface LoginThrottleOptions {
  /** Failures counted against the user name (password login) or user id (token login). */
  user: AttemptPolicy;
  /** Failures counted against one client connection, whichever users it tries. */
  connection: AttemptPolicy;
}

/** 5 free guesses per user then 1 s, 2 s, 4 s ... up to 5 min; 10 per connection, up to 1 min. */
export const DEFAULT_LOGIN_THROTTLE: LoginThrottleOptions = {
  user: { freeFailures: 5, baseBlockMs: 1_000, maxBlockMs: 300_000, windowMs: 900_000 },
  connection: { freeFailures: 10, baseBlockMs: 1_000, maxBlockMs: 60_000, windowMs: 900_000 },
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
  intents: IntentPublisher;
  knownUsers: KnownUsers;
  options: LogicOptions;
}
