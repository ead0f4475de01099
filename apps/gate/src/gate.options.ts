import type { MessageBus } from '@mqim/bus';
import type { RouteTable, TokenBuckets } from '@mqim/cache';
import type { Logger } from '@mqim/config';
import type { MqimMetrics } from '@mqim/metrics';

export interface GateOptions {
  gateId: string;
  topicPrefix: string;
  host: string;
  tcpPort: number;
  wsPort: number;
  /** @default 15000 */
  loginTimeoutMs: number;
  /** @default 60000 */
  heartbeatTimeoutMs: number;
  maxFrameBytes: number;
  maxMsgDataBytes: number;
  rateLimitPerSec: number;
  rateLimitBurst: number;
  routeTtlMs: number;
  /** A connection whose unsent output passes this is too slow to keep: closed. @default 4 MiB */
  maxPendingBytes?: number;
  /** Lanes of `im-upstream` (the same on every gate). @default DEFAULT_LANES (4, as MQIM_LANES) */
  lanes?: number;
  /** Upstream publishes in flight across all lanes. @default 2 */
  upstreamInFlight?: number;
  /** Batched publishes (upstream, receipts) at most once per slot or target per this many ms. @default 4 */
  mqPaceMs?: number;
  /**
   * Broker calls of the streams nobody waits on (receipt publishes) at most once per this many ms each.
   * @default 0
   */
  mqBackgroundPaceMs?: number;
  /** Requests waiting for the broker before new ones are refused with IM_ERR_BUSY. @default 4096 */
  upstreamMaxPending?: number;
  /** Sends handed to logic and not yet answered before new ones are refused with IM_ERR_BUSY. @default 8192 */
  maxOutstandingSends?: number;
  /**
   * Under overload, how long an admitted send may wait for its answer: the gate admits about
   * (answers per second) × this many sends at once and refuses the rest with IM_ERR_BUSY
   * (`SendAdmission`). 0 = only `maxOutstandingSends` applies. @default 0
   */
  sendTargetMs?: number;
  /** Sends per second one user may make across all of its connections on every gate; 0: no limit. @default 0 */
  userSendRate?: number;
  /** Sends one user may make at once above that rate. @default 100 */
  userSendBurst?: number;
  /** Largest frame accepted before login (a login frame is a few hundred bytes). @default 4096 */
  preLoginMaxFrameBytes?: number;
  /** A closed TCP connection whose peer does not take its unsent output is destroyed after this. @default 2000 */
  closeGraceMs?: number;
  /** A WebSocket connection must complete its HTTP upgrade within this. @default 5000 */
  wsHandshakeTimeoutMs?: number;
  /** Queries (history, lists) per connection in flight to logic. @default 4 */
  queryMaxInFlight?: number;
  /** Query reply bytes per second per connection; twice this is its burst. @default 1 MiB */
  queryBytesPerSec?: number;
  /** Unsent output past which a connection's new queries are refused. @default 1 MiB */
  queryMaxUnreadBytes?: number;
}

export interface GateDeps {
  bus: MessageBus;
  routes: RouteTable;
  /** The shared buckets behind the per-user send limit (cache.rates: one limit across gates). */
  rates: TokenBuckets;
  metrics: MqimMetrics;
  logger: Logger;
}

/** A send or query whose answer has not come back in this long no longer counts against its limit. */
export const ANSWER_EXPIRY_MS = 30_000;
