import { hostname } from 'node:os';
import type { Logger, MqimConfig } from '@mqim/config';
import {
  createPushDispatcher,
  SignedWebhookClient,
  type PushDispatcher,
  type PushDispatcherDeps,
} from '@mqim/push';
import type { Store } from '@mqim/store';
import type { GateOptions } from '@mqim/gate';
import { ObserverHooks, StoreBotDirectory, parseObserverEvents, type JobOptions } from '@mqim/job';
import type { LogicOptions } from '@mqim/logic';
import type { ApiOptions } from '@mqim/api';

/**
 * Pacing and the in-flight cap save broker round trips (~1 ms of CPU each on RocketMQ); the
 * in-process bus has none to save, so there they would only add latency.
 */
function pace(c: MqimConfig): number {
  return c.bus === 'memory' ? 0 : c.mqPaceMs;
}
/** Pacing of the streams nobody waits on (delivery receipts, fetching due push checks). */
function backgroundPace(c: MqimConfig): number {
  return c.bus === 'memory' ? 0 : c.mqBackgroundPaceMs;
}
/**
 * The gathering windows of batches on the message path (the job's gate batches; logic's replies,
 * tap and events): with a broker a batch waits the window only while nothing of its target is in
 * flight, since the round trip then gathers the next one. The in-process bus's round trip is a
 * microtask, so there a window is pure latency: batches go at the end of the macrotask instead.
 */
function jobWindow(c: MqimConfig): number {
  return c.bus === 'memory' ? 0 : c.jobBatchWindowMs;
}
function logicWindow(c: MqimConfig): number {
  return c.bus === 'memory' ? 0 : 1;
}
function inFlight(c: MqimConfig): number {
  return c.bus === 'memory' ? 1024 : c.upstreamInFlight;
}

/** Configuration -> each role's options; shared by standalone and the per-role processes. */
export function gateOptions(c: MqimConfig): GateOptions {
  return {
    gateId: c.gateId,
    topicPrefix: c.topicPrefix,
    host: c.gateHost,
    tcpPort: c.gateTcpPort,
    wsPort: c.gateWsPort,
    loginTimeoutMs: c.loginTimeoutMs,
    heartbeatTimeoutMs: c.heartbeatTimeoutMs,
    maxFrameBytes: c.maxFrameBytes,
    maxMsgDataBytes: c.maxMsgDataBytes,
    rateLimitPerSec: c.rateLimitPerSec,
    rateLimitBurst: c.rateLimitBurst,
    routeTtlMs: c.routeTtlMs,
    lanes: c.lanes,
    upstreamInFlight: inFlight(c),
    upstreamMaxPending: c.upstreamMaxPending,
    mqPaceMs: pace(c),
    mqBackgroundPaceMs: backgroundPace(c),
    maxOutstandingSends: c.gateMaxOutstanding,
    sendTargetMs: c.gateSendTargetMs,
    userSendRate: c.userSendRate,
    userSendBurst: c.userSendBurst,
    preLoginMaxFrameBytes: c.preLoginMaxFrameBytes,
    maxPendingBytes: c.maxPendingOutputBytes,
    closeGraceMs: c.closeGraceMs,
    wsHandshakeTimeoutMs: c.wsHandshakeTimeoutMs,
    queryMaxInFlight: c.queryMaxInFlight,
    queryBytesPerSec: c.queryBytesPerSec,
    queryMaxUnreadBytes: c.queryMaxUnreadBytes,
  };
}

export function logicOptions(c: MqimConfig): LogicOptions {
  return {
    topicPrefix: c.topicPrefix,
    historyLimitMax: c.historyLimitMax,
    historyMaxBytes: c.historyMaxBytes,
    recallWindowSec: c.recallWindowSec,
    maxMsgDataBytes: c.maxMsgDataBytes,
    loginPolicy: c.loginPolicy as LogicOptions['loginPolicy'],
    concurrency: c.logicConcurrency,
    lanes: c.lanes,
    intentInFlight: inFlight(c),
    mqPaceMs: pace(c),
    mqWindowMs: logicWindow(c),
    ackViaJob: c.sendAckPath === 'job',
    loginThrottle: loginThrottle(c),
    groupLimits: groupLimits(c),
    voipRingTimeoutMs: c.voipRingTimeoutMs,
    voipCallTtlMs: c.voipCallTtlMs,
    beforeSendHook: c.hookBeforeSendUrl
      ? {
          url: c.hookBeforeSendUrl,
          secret: c.hookSecret,
          budgetMs: c.hookBeforeSendBudgetMs,
          failOpen: c.hookBeforeSendPolicy !== 'closed',
        }
      : undefined,
  };
}

function groupLimits(c: MqimConfig): NonNullable<LogicOptions['groupLimits']> {
  const base = Math.max(1, c.groupCreateBackoffMs);
  const windowMs = Math.max(base, c.groupCreateWindowMs);
  return {
    maxMembersPerRequest: c.groupMaxMembersPerRequest,
    create: { freeFailures: c.groupCreatesPerWindow - 1, baseBlockMs: base, maxBlockMs: windowMs, windowMs },
  };
}

function loginThrottle(c: MqimConfig): NonNullable<LogicOptions['loginThrottle']> {
  // The cache refuses zero durations; a configured 0 means "as short as possible".
  const ms = (v: number) => Math.max(1, v);
  const base = ms(c.loginBackoffBaseMs);
  const max = Math.max(base, ms(c.loginBackoffMaxMs));
  const windowMs = ms(c.loginFailureWindowMs);
  return {
    user: { freeFailures: c.loginFreeFailures, baseBlockMs: base, maxBlockMs: max, windowMs },
    connection: {
      freeFailures: c.loginConnFreeFailures,
      baseBlockMs: base,
      maxBlockMs: Math.max(base, Math.min(max, 60_000)),
      windowMs,
    },
    address: { freeFailures: c.loginAddressFreeFailures, baseBlockMs: base, maxBlockMs: max, windowMs },
  };
}

export function apiLimits(c: MqimConfig): NonNullable<ApiOptions['limits']> {
  return {
    bodyLimit: c.apiBodyLimit,
    requestTimeoutMs: c.apiRequestTimeoutMs,
    headersTimeoutMs: c.apiHeadersTimeoutMs,
    keepAliveTimeoutMs: c.apiKeepAliveTimeoutMs,
    connectionTimeoutMs: c.apiConnectionTimeoutMs,
    maxConnections: c.apiMaxConnections,
  };
}

/**
 * The send API's place on the message path: lanes as the gates have them, and a name to be
 * answered under that no other process uses (the instance id, else host and pid).
 */
export function apiSendOptions(c: MqimConfig): Partial<ApiOptions> {
  const who = (c.instanceId || `${hostname()}-${process.pid}`).replace(/[^A-Za-z0-9_-]/g, '_');
  return {
    endpointId: `api-${who}`.slice(0, 60),
    lanes: c.lanes,
    sendTimeoutMs: c.apiSendTimeoutMs,
    idempotency: { ttlMs: c.apiIdempotencyTtlMs },
    broadcast: { perSecond: c.broadcastPerSecond, pageSize: c.broadcastPageSize },
    schedule: {
      armWithinMs: c.scheduleArmWithinMs,
      scanMs: c.scheduleScanMs,
      graceMs: c.scheduleGraceMs,
    },
    upstreamInFlight: inFlight(c),
    mqPaceMs: pace(c),
  };
}

export function jobOptions(c: MqimConfig): JobOptions {
  return {
    topicPrefix: c.topicPrefix,
    batchWindowMs: jobWindow(c),
    receiptFlushMs: c.receiptFlushMs,
    pushCheckDelayMs: c.pushCheckDelayMs,
    concurrency: c.jobConcurrency,
    mqPaceMs: pace(c),
    mqBackgroundPaceMs: backgroundPace(c),
  };
}

/** The offline-push dispatcher for the job: only the providers the configuration names. */
export function pushDispatcher(
  c: MqimConfig,
  store: Store,
  logger: Logger,
  onReport?: PushDispatcherDeps['onReport'],
): PushDispatcher {
  const opt = (v: string) => v || undefined;
  return createPushDispatcher(
    {
      webhook: {
        url: opt(c.pushWebhookUrl),
        secret: opt(c.pushWebhookSecret),
        deadLetterFile: opt(c.pushDeadLetterFile),
      },
      apns: {
        keyId: opt(c.apnsKeyId),
        teamId: opt(c.apnsTeamId),
        bundleId: opt(c.apnsBundleId),
        keyFile: opt(c.apnsKeyFile),
        endpoint: opt(c.apnsEndpoint),
        caFile: opt(c.apnsCaFile),
      },
      fcm: {
        serviceAccountFile: opt(c.fcmServiceAccountFile),
        projectId: opt(c.fcmProjectId),
        endpoint: opt(c.fcmEndpoint),
        tokenUri: opt(c.fcmTokenUri),
      },
      coalesceWindowMs: c.pushCoalesceMs,
    },
    {
      logger: logger.child({ role: 'push' }),
      targets: async (userId) =>
        (await store.devices.list([userId])).map((d) => ({ platform: d.platform, token: d.token })),
      // A token the provider calls dead (app uninstalled) is forgotten.
      onPermanentFailure: async (userId, target) => {
        await store.devices.remove(userId, target.platform, target.token);
      },
      onReport,
    },
  );
}

/**
 * The job's observer webhooks and bots (ADR 0016), through the push webhook's machinery (timeouts,
 * retries, dead letter): with MQIM_HOOK_OBSERVER_URL the observer events, signed with
 * MQIM_HOOK_SECRET; with the secret alone the bots' webhooks (the users flagged in `im_bot`),
 * each signed with the bot's own secret (MQIM_HOOK_SECRET for a bot from before migration 0007).
 */
export function observerHooks(
  c: MqimConfig,
  store: Store,
  logger: Logger,
): { hooks: ObserverHooks; close(): Promise<void> } | undefined {
  if (!c.hookSecret) return undefined;
  const bots = new StoreBotDirectory(store);
  const log = logger.child({ role: 'hooks' });
  const client = new SignedWebhookClient({
    url: c.hookObserverUrl || 'http://bots.invalid/',
    secret: c.hookSecret,
    timeoutMs: c.hookTimeoutMs,
    deadLetterFile: c.hookDeadLetterFile || undefined,
    logger: log,
    kind: 'hook',
    deadLetterTag: { kind: 'hook' },
  });
  const hooks = new ObserverHooks(
    client,
    store,
    { url: c.hookObserverUrl || undefined, events: parseObserverEvents(c.hookObserverEvents) },
    log,
    bots,
  );
  return { hooks, close: () => client.close() };
}
