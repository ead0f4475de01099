import type { MessageBus } from '@mqim/bus';
import type { Cache } from '@mqim/cache';
import {
  collectClusterStatus,
  createBus,
  createCache,
  createStore,
  errorText,
  maskUrl,
  type ClusterStatus,
  type DependencyStatus,
} from '@mqim/composition';
import { createLogger } from '@mqim/config';
import { MqNames } from '@mqim/protocol';
import type { Store } from '@mqim/store';
import { clusterConfig } from './startup.error';

const USAGE = `mqim status [--json] [--api <url>] [--consumer-group NAME]...

  Prints the cluster at a glance: live gates with their connections and users, logic / job / api
  processes, gates whose routes are being evicted, Redis / MySQL / broker reachability and the
  consumer lag of every group. Exit code 0 when everything is up, 1 otherwise.

  Reads Redis, MySQL and the broker named by MQIM_REDIS_URL, MQIM_MYSQL_URI, MQIM_RMQ_NAMESRV and
  MQIM_TOPIC_PREFIX directly (it works while the api is down). With --api it asks
  GET <url>/api/v1/cluster/status instead, with MQIM_API_KEY (for hosts that reach only the api).

  --json                 the same data as the api's JSON
  --consumer-group NAME  also the lag of an analytics group (yours) on the events and persisted
                         topics; the one it does not read shows its whole backlog`;

export async function runStatus(args: string[]): Promise<void> {
  if (args.includes('--help') || args.includes('-h')) {
    console.log(USAGE);
    return;
  }
  const json = args.includes('--json');
  const apiAt = args.indexOf('--api');
  const groups: string[] = [];
  const valued = new Set<number>(apiAt >= 0 ? [apiAt + 1] : []);
  args.forEach((a, i) => {
    if (a !== '--consumer-group') return;
    valued.add(i + 1);
    groups.push(args[i + 1] ?? '');
  });
  const unknown = args.filter(
    (a, i) => a !== '--json' && a !== '--api' && a !== '--consumer-group' && !valued.has(i) && a,
  );
  const badGroup = groups.find((g) => !/^[A-Za-z0-9_-]{1,100}$/.test(g));
  if (unknown.length > 0 || (apiAt >= 0 && !args[apiAt + 1]) || badGroup !== undefined) {
    const what =
      badGroup !== undefined
        ? `consumer group "${badGroup}" (letters, digits, "-", "_")`
        : unknown.join(' ') || '--api without a URL';
    console.error(`mqim status: unexpected ${what}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  const config = clusterConfig();
  const status =
    apiAt >= 0 ? await fromApi(args[apiAt + 1]!, config.apiKey, groups) : await fromServices(config, groups);
  // --json is for machines: one line, the api's shape.
  console.log(json ? JSON.stringify(status) : formatStatus(status, config.topicPrefix));
  process.exitCode = status.ok ? 0 : 1;
}

async function fromApi(url: string, key: string, groups: string[]): Promise<ClusterStatus> {
  const query = groups.length ? `?consumerGroups=${groups.join(',')}` : '';
  const res = await fetch(`${url.replace(/\/$/, '')}/api/v1/cluster/status${query}`, {
    headers: { authorization: `Bearer ${key}` },
    signal: AbortSignal.timeout(10_000),
  });
  if (!res.ok)
    throw new Error(`GET ${url}/api/v1/cluster/status answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as ClusterStatus;
}

async function fromServices(
  config: ReturnType<typeof clusterConfig>,
  groups: string[],
): Promise<ClusterStatus> {
  // Silent: problems are what this command reports, in its own output.
  const logger = createLogger('mqim-status', 'silent');
  const unopened: DependencyStatus[] = [];
  const open = async <T>(
    name: DependencyStatus['name'],
    kind: string,
    fn: () => Promise<T>,
  ): Promise<T | undefined> => {
    try {
      return await fn();
    } catch (err) {
      unopened.push({ name, ok: false, kind, ms: 0, error: errorText(err) });
      return undefined;
    }
  };
  const [cache, store, bus] = await Promise.all([
    open<Cache>('redis', config.cache, () => createCache(config, logger)),
    open<Store>('database', config.store, () => createStore(config, logger)),
    open<MessageBus>('broker', config.bus, () => createBus(config, logger)),
  ]);
  try {
    if (!cache) {
      // Nothing can be listed without the cache: say so with what is known.
      return {
        at: Date.now(),
        ok: false,
        gates: [],
        instances: [],
        onlineUsers: 0,
        deadGates: [],
        dependencies: unopened.map((d) =>
          d.name === 'redis' ? { ...d, error: `${maskUrl(config.redisUrl)}: ${d.error}` } : d,
        ),
        consumers: { source: 'none', note: 'not read: the cache is unreachable', groups: [] },
      };
    }
    return await collectClusterStatus({
      cache,
      store,
      bus,
      names: new MqNames(config.topicPrefix),
      unopened,
      consumerGroups: groups,
    });
  } finally {
    await Promise.allSettled([cache?.close(), store?.close(), bus?.close()]);
  }
}

/** The human view: one table per section, ages instead of timestamps. */
export function formatStatus(s: ClusterStatus, prefix: string): string {
  const out: string[] = [];
  const conns = s.gates.reduce((n, g) => n + g.connections, 0);
  out.push(
    `mqim cluster "${prefix}" at ${new Date(s.at).toISOString()}: ${s.ok ? 'OK' : 'NOT OK'}`,
    '',
    `gates: ${s.gates.length} alive, ${conns} connections, ${s.onlineUsers} users online`,
  );
  out.push(
    ...table(
      ['GATE', 'CONNS', 'USERS', 'ADDRESS', 'HOST', 'PID', 'VERSION', 'UP', 'BEAT'],
      s.gates.map((g) => [
        g.id,
        String(g.connections),
        String(g.users),
        g.address,
        g.host,
        String(g.pid),
        g.version,
        age(s.at - g.startedAt),
        `${age(s.at - g.beatAt)} ago`,
      ]),
    ),
  );
  if (s.deadGates.length > 0)
    out.push(`dead gates (no heartbeat, routes being evicted): ${s.deadGates.join(', ')}`);
  out.push('', `processes: ${countBy(s.instances.map((i) => i.role))}`);
  out.push(
    ...table(
      ['ROLE', 'ID', 'HOST', 'PID', 'VERSION', 'UP', 'BEAT'],
      s.instances.map((i) => [
        i.role,
        i.id,
        i.host,
        String(i.pid),
        i.version,
        age(s.at - i.startedAt),
        `${age(s.at - i.beatAt)} ago`,
      ]),
    ),
  );
  out.push('', 'dependencies:');
  out.push(
    ...table(
      ['NAME', 'KIND', 'STATE', 'TIME', 'ERROR'],
      s.dependencies.map((d) => [d.name, d.kind, d.ok ? 'up' : 'DOWN', `${d.ms} ms`, d.error ?? '']),
    ),
  );
  out.push(
    '',
    s.consumers.source === 'broker'
      ? 'consumer lag (messages not consumed yet, from the broker):'
      : `consumer lag: not available (${s.consumers.note ?? 'no broker'})`,
  );
  if (s.consumers.source === 'broker')
    out.push(
      ...table(
        ['GROUP', 'TOPIC', 'LAG', 'LAST CONSUMED'],
        s.consumers.groups.map((g) => [
          g.group,
          g.topic,
          g.lag < 0 ? '?' : String(g.lag),
          g.error ?? (g.lastConsumedAt > 0 ? `${age(s.at - g.lastConsumedAt)} ago` : 'never'),
        ]),
      ),
    );
  return out.join('\n');
}

function table(header: string[], rows: string[][]): string[] {
  if (rows.length === 0) return ['  (none)'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    `  ${cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd()}`;
  return [line(header), ...rows.map(line)];
}

function countBy(values: string[]): string {
  if (values.length === 0) return 'none alive';
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].map(([k, n]) => `${n} ${k}`).join(', ');
}

function age(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  if (s < 172_800) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86_400)}d`;
}
