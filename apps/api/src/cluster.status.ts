import { RocketMqBus, type MessageBus } from '@mqim/bus';
import type { Cache, LiveInstance } from '@mqim/cache';
import type { MqNames } from '@mqim/protocol';
import type { Store } from '@mqim/store';

/** A probe slower than this counts as failed: a status page must answer while things are down. */
const PROBE_TIMEOUT_MS = 2000;

export interface DependencyStatus {
  name: 'redis' | 'database' | 'broker';
  ok: boolean;
  /** `redis` / `memory`, `mysql` / `sqlite`, `rocketmq` / `memory`. */
  kind: string;
  ms: number;
  error?: string;
}

export interface GroupLag {
  group: string;
  topic: string;
  /** -1 when unknown (see `error`). */
  lag: number;
  /** Store time (unix ms) of the newest message the group consumed; 0 when none yet. */
  lastConsumedAt: number;
  error?: string;
}

export interface GateStatus {
  id: string;
  address: string;
  connections: number;
  users: number;
  host: string;
  pid: number;
  version: string;
  startedAt: number;
  beatAt: number;
}

export interface InstanceStatus {
  role: string;
  id: string;
  host: string;
  pid: number;
  version: string;
  startedAt: number;
  beatAt: number;
  address?: string;
}

/** What `GET /api/v1/cluster/status` answers and `mqim status` prints. */
export interface ClusterStatus {
  /** Unix ms this was read. */
  at: number;
  /** Every dependency answered, and at least one gate, logic and job is alive. */
  ok: boolean;
  gates: GateStatus[];
  /** logic, job and api processes (heartbeats of the last TTL). */
  instances: InstanceStatus[];
  /** Distinct users with a live route. */
  onlineUsers: number;
  /** Gates still holding routes without a heartbeat: a sweeper evicts them within seconds. */
  deadGates: string[];
  dependencies: DependencyStatus[];
  consumers: {
    /** `broker`: read from RocketMQ's consumer offsets; `none`: this bus keeps no offsets. */
    source: 'broker' | 'none';
    note?: string;
    groups: GroupLag[];
  };
}

export interface ClusterStatusDeps {
  cache: Cache;
  store?: Store;
  bus?: MessageBus;
  names: MqNames;
  /** Dependencies that could not even be opened (`mqim status` without a reachable MySQL). */
  unopened?: DependencyStatus[];
  /**
   * Analytics consumer groups (a data team's, `mqim provision --consumer-group`) whose lag is
   * reported on the two analytics topics, events and persisted. The broker cannot say which of
   * the two a group reads: on the one it never read the whole backlog counts as lag.
   */
  consumerGroups?: readonly string[];
}

/**
 * Reads the cluster's state from its shared services — heartbeats and routes in the cache, a
 * probe of each dependency, consumer offsets from the broker — never from the roles themselves,
 * so it answers the same whichever process asks and whichever roles are down.
 */
export async function collectClusterStatus(deps: ClusterStatusDeps): Promise<ClusterStatus> {
  const at = Date.now();
  // Without the cache nothing is known about the processes; the redis probe says why.
  const [cached, dependencies] = await Promise.all([
    Promise.all([
      deps.cache.presence.list(),
      deps.cache.routes.gates(),
      deps.cache.routes.online(0, 1),
    ]).catch(() => undefined),
    probeDependencies(deps),
  ]);
  const [instances, withRoutes, online] = cached ?? [[], [], { total: 0, userIds: [] }];
  const gates = instances.filter((i) => i.role === 'gate').map(gateStatus);
  const others = instances.filter((i) => i.role !== 'gate').map(instanceStatus);
  const alive = new Set(gates.map((g) => g.id));
  const deadGates = withRoutes.filter((g) => !alive.has(g)).sort();
  const consumers = await consumerLags(
    deps,
    [...new Set([...alive, ...deadGates])].sort(),
    deps.consumerGroups ?? [],
  );
  const has = (role: string) => others.some((i) => i.role === role);
  return {
    at,
    ok: dependencies.every((d) => d.ok) && gates.length > 0 && has('logic') && has('job'),
    gates,
    instances: others,
    onlineUsers: online.total,
    deadGates,
    dependencies,
    consumers,
  };
}

function gateStatus(i: LiveInstance): GateStatus {
  return {
    id: i.id,
    address: i.address ?? '',
    connections: i.connections ?? 0,
    users: i.users ?? 0,
    host: i.host,
    pid: i.pid,
    version: i.version,
    startedAt: i.startedAt,
    beatAt: i.beatAt,
  };
}

function instanceStatus(i: LiveInstance): InstanceStatus {
  const s: InstanceStatus = {
    role: i.role,
    id: i.id,
    host: i.host,
    pid: i.pid,
    version: i.version,
    startedAt: i.startedAt,
    beatAt: i.beatAt,
  };
  if (i.address) s.address = i.address;
  return s;
}

async function probeDependencies(deps: ClusterStatusDeps): Promise<DependencyStatus[]> {
  const ping = (deps.cache as Partial<{ ping(): Promise<void> }>).ping;
  const probes: Promise<DependencyStatus>[] = [
    typeof ping === 'function'
      ? timed('redis', 'redis', () => ping.call(deps.cache))
      : Promise.resolve(embedded('redis', 'memory')),
  ];
  const store = deps.store;
  if (store) probes.push(timed('database', store.dialect, async () => void (await store.users.findById(1))));
  const bus = deps.bus;
  if (bus instanceof RocketMqBus)
    probes.push(timed('broker', 'rocketmq', async () => void (await bus.admin.masterBrokers())));
  else if (bus) probes.push(Promise.resolve(embedded('broker', 'memory')));
  return [...(await Promise.all(probes)), ...(deps.unopened ?? [])];
}

function embedded(name: DependencyStatus['name'], kind: string): DependencyStatus {
  return { name, ok: true, kind, ms: 0 };
}

async function timed(
  name: DependencyStatus['name'],
  kind: string,
  probe: () => Promise<void>,
): Promise<DependencyStatus> {
  const started = performance.now();
  try {
    await bounded(probe());
    return { name, ok: true, kind, ms: Math.round(performance.now() - started) };
  } catch (err) {
    return { name, ok: false, kind, ms: Math.round(performance.now() - started), error: message(err) };
  }
}

/**
 * Lag of every shared group and of the given gates' groups (what `/metrics` of the api exports
 * too), and of the given analytics groups on the events and persisted topics.
 */
export async function consumerLags(
  deps: Pick<ClusterStatusDeps, 'bus' | 'names'>,
  gateIds: string[],
  analyticsGroups: readonly string[] = [],
): Promise<ClusterStatus['consumers']> {
  const bus = deps.bus;
  if (!(bus instanceof RocketMqBus))
    return {
      source: 'none',
      note: 'the in-process bus hands messages over in memory and keeps no consumer offsets',
      groups: [],
    };
  const n = deps.names;
  const pairs: [string, string][] = [
    [n.logicGroup, n.upstream],
    [n.jobDeliverGroup, n.deliver],
    [n.jobReceiptGroup, n.receipt],
    [n.jobPushGroup, n.pushCheck],
    ...gateIds.map((g): [string, string] => [n.gateGroup(g), n.gate(g)]),
    ...analyticsGroups.flatMap((g): [string, string][] => [
      [g, n.events],
      [g, n.persisted],
    ]),
  ];
  const groups = await Promise.all(
    pairs.map(async ([group, topic]): Promise<GroupLag> => {
      try {
        const { lag, lastConsumedAt, queues } = await bounded(bus.consumerLag(group, topic));
        if (queues === 0)
          return { group, topic, lag: -1, lastConsumedAt: 0, error: 'no queues: topic not provisioned' };
        return { group, topic, lag, lastConsumedAt };
      } catch (err) {
        return { group, topic, lag: -1, lastConsumedAt: 0, error: message(err) };
      }
    }),
  );
  return { source: 'broker', groups };
}

function bounded<T>(promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${PROBE_TIMEOUT_MS} ms`)), PROBE_TIMEOUT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
