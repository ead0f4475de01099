import { BusUnavailableError, type GroupSpec, type TopicKind, type TopicSpec } from '../message-bus.port';
import { assertName } from '../internal/validate';
import { RemotingConnection, RemotingResponseError } from './remoting.client';
import { parseServerJson } from './remoting.codec';

/** Request codes (`org.apache.rocketmq.remoting.protocol.RequestCode`). */
export const RequestCode = {
  UPDATE_AND_CREATE_TOPIC: 17,
  GET_ROUTEINFO_BY_TOPIC: 105,
  GET_BROKER_CLUSTER_INFO: 106,
  UPDATE_AND_CREATE_SUBSCRIPTIONGROUP: 200,
  GET_TOPIC_CONFIG: 351,
  GET_SUBSCRIPTIONGROUP_CONFIG: 352,
  GET_CONSUME_STATS: 208,
} as const;

/** Response codes (`ResponseCode`) the admin client tells apart. */
export const ResponseCode = {
  SUCCESS: 0,
  TOPIC_NOT_EXIST: 17,
  SUBSCRIPTION_GROUP_NOT_EXIST: 26,
} as const;

const PERM_READ = 1 << 2;
const PERM_WRITE = 1 << 1;
const MESSAGE_TYPE: Record<TopicKind, string> = { normal: 'NORMAL', fifo: 'FIFO', delay: 'DELAY' };

export interface RocketMqAdminOptions {
  /** Name server(s), `host:port[;host:port]`. */
  namesrv: string;
  /** @default 'DefaultCluster' */
  cluster?: string;
  /** @default 5000 */
  requestTimeoutMs?: number;
  /**
   * How long `ensureTopics` waits for the name server to list a new topic's route (brokers
   * register new topics with it asynchronously).
   * @default 10000
   */
  routeWaitMs?: number;
}

export interface TopicRoute {
  queueDatas: { brokerName: string; readQueueNums: number; writeQueueNums: number; perm: number }[];
  brokerDatas: { cluster: string; brokerName: string; brokerAddrs: Record<string, string> }[];
}

export interface BrokerTopicConfig {
  topicName: string;
  readQueueNums: number;
  writeQueueNums: number;
  perm: number;
  order: boolean;
  attributes?: Record<string, string>;
}

export interface SubscriptionGroupConfig {
  groupName: string;
  consumeEnable: boolean;
  consumeMessageOrderly: boolean;
  retryMaxTimes: number;
  [key: string]: unknown;
}

/** One queue of a topic as a consumer group sees it (`mqadmin consumerProgress`). */
export interface QueueProgress {
  topic: string;
  brokerName: string;
  queueId: number;
  /** Next offset the broker will write. */
  brokerOffset: number;
  /** Next offset the group will consume (committed by acks; pop consumers commit as they go). */
  consumerOffset: number;
  /** Store time (unix ms) of the last message the group consumed from it; 0 when none. */
  lastTimestamp: number;
}

export class TopicKindConflictError extends Error {
  readonly code = 'IM_ERR_TOPIC_KIND_CONFLICT';
  constructor(
    readonly topic: string,
    readonly existing: string,
    readonly wanted: string,
  ) {
    super(`topic "${topic}" exists with message.type=${existing}, cannot become ${wanted}`);
    this.name = 'TopicKindConflictError';
  }
}

/**
 * Provisions topics and consumer groups from Node, over RocketMQ's remoting protocol: what
 * `mqadmin updateTopic` / `updateSubGroup` do, without a JVM. Asks the name server for the
 * cluster's master brokers, then talks to each of them.
 *
 * Every method is idempotent: existing topics are left alone (a kind conflict is an error),
 * groups are created or updated.
 */
export class RocketMqAdmin {
  private readonly namesrvAddrs: string[];
  private readonly cluster: string;
  private readonly timeoutMs: number;
  private readonly routeWaitMs: number;
  private readonly connections = new Map<string, RemotingConnection>();
  private closed = false;

  constructor(options: RocketMqAdminOptions) {
    this.namesrvAddrs = options.namesrv
      .split(/[;,]/)
      .map((s) => s.trim())
      .filter((s) => s !== '');
    if (this.namesrvAddrs.length === 0) throw new Error('RocketMqAdmin: no name server address');
    this.cluster = options.cluster ?? 'DefaultCluster';
    this.timeoutMs = options.requestTimeoutMs ?? 5000;
    this.routeWaitMs = options.routeWaitMs ?? 10_000;
  }

  /** Addresses of the cluster's master brokers (brokerId 0), one per broker name. */
  async masterBrokers(): Promise<string[]> {
    const response = await this.namesrvRequest(RequestCode.GET_BROKER_CLUSTER_INFO, {});
    const info = parseServerJson<{
      brokerAddrTable?: Record<string, { cluster: string; brokerAddrs: Record<string, string> }>;
      clusterAddrTable?: Record<string, string[]>;
    }>(response ?? '{}');
    const names = info.clusterAddrTable?.[this.cluster] ?? [];
    const masters = names.map((name) => info.brokerAddrTable?.[name]?.brokerAddrs['0']).filter(isString);
    if (masters.length === 0) {
      throw new BusUnavailableError(
        `cluster "${this.cluster}" has no master broker registered with ${this.namesrvAddrs.join(';')}`,
      );
    }
    return masters;
  }

  /** The route the name server holds for `topic`, or `undefined` when it has none. */
  async topicRoute(topic: string): Promise<TopicRoute | undefined> {
    try {
      const body = await this.namesrvRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC, {
        topic,
        acceptStandardJsonOnly: true,
      });
      return parseServerJson<TopicRoute>(body ?? '{}');
    } catch (err) {
      if (err instanceof RemotingResponseError && err.responseCode === ResponseCode.TOPIC_NOT_EXIST)
        return undefined;
      throw err;
    }
  }

  /** The topic's config on one broker, or `undefined` when that broker does not have it. */
  async topicConfig(broker: string, topic: string): Promise<BrokerTopicConfig | undefined> {
    try {
      const body = await this.brokerRequest(broker, RequestCode.GET_TOPIC_CONFIG, { topic });
      // A TopicConfigAndQueueMapping: the TopicConfig's fields, plus a mapping detail.
      return parseServerJson<BrokerTopicConfig>(body ?? '{}');
    } catch (err) {
      if (err instanceof RemotingResponseError && err.responseCode === ResponseCode.TOPIC_NOT_EXIST)
        return undefined;
      throw err;
    }
  }

  /**
   * Creates the topics missing on any master broker, with `message.type` from their kind, then
   * waits until the name server routes every one of them (clients look routes up there).
   */
  async ensureTopics(topics: readonly TopicSpec[]): Promise<void> {
    for (const t of topics) assertName('topic', t.name);
    const brokers = await this.masterBrokers();
    for (const spec of topics) {
      const wanted = MESSAGE_TYPE[spec.kind];
      const queues = spec.queues ?? 8;
      for (const broker of brokers) {
        const existing = await this.topicConfig(broker, spec.name);
        if (existing) {
          const type = existing.attributes?.['message.type'] ?? 'NORMAL';
          if (type !== wanted) throw new TopicKindConflictError(spec.name, type, wanted);
          continue;
        }
        await this.brokerRequest(broker, RequestCode.UPDATE_AND_CREATE_TOPIC, {
          topic: spec.name,
          defaultTopic: 'TBW102',
          readQueueNums: queues,
          writeQueueNums: queues,
          perm: PERM_READ | PERM_WRITE,
          topicFilterType: 'SINGLE_TAG',
          topicSysFlag: 0,
          order: false,
          attributes: `+message.type=${wanted}`,
        });
      }
    }
    await Promise.all(topics.map((t) => this.waitForRoute(t.name)));
  }

  /**
   * Creates or updates consumer groups on every master broker. Orderly groups consume FIFO
   * topics one message at a time per message group. `retryMaxTimes` is the broker's own
   * dead-letter threshold (RocketMqBus dead-letters by `maxDeliveryAttempts` first).
   */
  async ensureGroups(groups: readonly (GroupSpec & { retryMaxTimes?: number })[]): Promise<void> {
    for (const g of groups) assertName('group', g.name);
    const brokers = await this.masterBrokers();
    for (const spec of groups) {
      const config = {
        groupName: spec.name,
        consumeEnable: true,
        consumeFromMinEnable: true,
        consumeBroadcastEnable: true,
        consumeMessageOrderly: spec.orderly,
        retryQueueNums: 1,
        retryMaxTimes: spec.retryMaxTimes ?? 16,
        brokerId: 0,
        whichBrokerWhenConsumeSlowly: 1,
        notifyConsumerIdsChangedEnable: true,
        groupSysFlag: 0,
        consumeTimeoutMinute: 15,
        attributes: {},
      };
      const body = Buffer.from(JSON.stringify(config), 'utf8');
      for (const broker of brokers) {
        await this.brokerRequest(broker, RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, {}, body);
      }
    }
  }

  /** The group's config on one broker, or `undefined` when it does not exist there. */
  async groupConfig(broker: string, group: string): Promise<SubscriptionGroupConfig | undefined> {
    try {
      const body = await this.brokerRequest(broker, RequestCode.GET_SUBSCRIPTIONGROUP_CONFIG, { group });
      return body ? parseServerJson<SubscriptionGroupConfig>(body) : undefined;
    } catch (err) {
      if (
        err instanceof RemotingResponseError &&
        err.responseCode === ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST
      ) {
        return undefined;
      }
      throw err;
    }
  }

  /**
   * The group's progress on `topic`, per queue, from one broker: the broker's `ConsumeStats`.
   * Lag is `brokerOffset - consumerOffset` summed over the queues. Messages a pop consumer holds
   * without having acked them yet are not in the lag (their offsets are already taken).
   */
  async consumeStats(broker: string, group: string, topic: string): Promise<QueueProgress[]> {
    const body = await this.brokerRequest(broker, RequestCode.GET_CONSUME_STATS, {
      consumerGroup: group,
      topic,
    });
    return parseOffsetTable(body ? Buffer.from(body).toString('utf8') : '');
  }

  close(): void {
    this.closed = true;
    for (const c of this.connections.values()) c.close();
    this.connections.clear();
  }

  private async waitForRoute(topic: string): Promise<void> {
    const deadline = Date.now() + this.routeWaitMs;
    for (;;) {
      const route = await this.topicRoute(topic);
      if (route && route.queueDatas.length > 0) return;
      if (Date.now() > deadline) {
        throw new BusUnavailableError(
          `topic "${topic}" was created but the name server has no route after ${this.routeWaitMs} ms`,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Asks each name server in turn until one answers. */
  private async namesrvRequest(
    code: number,
    extFields: Record<string, string | number | boolean>,
  ): Promise<Uint8Array | undefined> {
    let lastError: unknown;
    for (const addr of this.namesrvAddrs) {
      try {
        return await this.call(addr, code, extFields);
      } catch (err) {
        if (err instanceof RemotingResponseError) throw err;
        lastError = err;
      }
    }
    throw lastError;
  }

  private brokerRequest(
    broker: string,
    code: number,
    extFields: Record<string, string | number | boolean>,
    body?: Uint8Array,
  ): Promise<Uint8Array | undefined> {
    return this.call(broker, code, extFields, body);
  }

  private async call(
    address: string,
    code: number,
    extFields: Record<string, string | number | boolean>,
    body?: Uint8Array,
  ): Promise<Uint8Array | undefined> {
    if (this.closed) throw new BusUnavailableError('RocketMqAdmin is closed');
    let conn = this.connections.get(address);
    if (!conn) {
      conn = new RemotingConnection(address, this.timeoutMs);
      this.connections.set(address, conn);
    }
    const response = await conn.request({ code, extFields, body });
    if (response.code !== ResponseCode.SUCCESS) {
      throw new RemotingResponseError(address, code, response.code, response.remark);
    }
    return response.body;
  }
}

function isString(v: unknown): v is string {
  return typeof v === 'string' && v !== '';
}

/**
 * `ConsumeStats.offsetTable` is a map keyed by MessageQueue objects, which fastjson writes as
 * object keys (`{{"brokerName":"b","queueId":0,"topic":"t"}:{"brokerOffset":3,...}}`): not JSON.
 * Both sides are flat objects, so each `{key}:{value}` pair is cut out and parsed on its own.
 */
export function parseOffsetTable(text: string): QueueProgress[] {
  const start = text.indexOf('"offsetTable"');
  if (start < 0) return [];
  const pairs = /\{([^{}]*)\}\s*:\s*\{([^{}]*)\}/g;
  pairs.lastIndex = start;
  const queues: QueueProgress[] = [];
  for (let m = pairs.exec(text); m !== null; m = pairs.exec(text)) {
    const key = JSON.parse(`{${m[1]}}`) as { brokerName?: string; queueId?: number; topic?: string };
    const value = JSON.parse(`{${m[2]}}`) as {
      brokerOffset?: number;
      consumerOffset?: number;
      lastTimestamp?: number;
    };
    queues.push({
      topic: key.topic ?? '',
      brokerName: key.brokerName ?? '',
      queueId: key.queueId ?? 0,
      brokerOffset: value.brokerOffset ?? 0,
      consumerOffset: value.consumerOffset ?? 0,
      lastTimestamp: value.lastTimestamp ?? 0,
    });
  }
  return queues.sort((a, b) => a.queueId - b.queueId);
}
