import { connect } from 'node:net';
import { RocketMqBus, type MessageBus } from '@mqim/bus';
import type { Cache } from '@mqim/cache';
import type { HealthSource } from '@mqim/metrics';
import type { Store } from '@mqim/store';

/** A probe that takes longer than this counts as failed: a load balancer must not wait on us. */
const PROBE_TIMEOUT_MS = 2000;

export interface ReadinessDeps {
  bus: MessageBus;
  cache: Cache;
  store?: Store;
  /** `host:port[;host:port]` of the RocketMQ proxy (only probed on a RocketMqBus). */
  rmqEndpoints?: string;
  /**
   * Topics this role must find provisioned (a gate: its own topic), checked on the name server;
   * only on a RocketMqBus.
   */
  ownTopics?: readonly string[];
  /**
   * Not ready while a subscription's oldest message in flight is older than this (it is behind
   * or stuck); 0 = never. Only on a RocketMqBus. See `RocketMqBus.consumeDelays`.
   */
  maxConsumeDelayMs?: number;
  /**
   * Not ready while a consumer group of this role's subscriptions has more than this many
   * messages written and not consumed on the broker (`RocketMqBus.consumerLag`); 0 = never.
   */
  maxLag?: number;
}

/**
 * What `/readyz` answers: each dependency of the role is asked once, in parallel, within
 * PROBE_TIMEOUT_MS. A problem starts with the dependency's name (`redis:`, `database:`,
 * `broker:`, `subscription:`) so the body says what to fix. The in-process bus and memory cache
 * have nothing to probe; the SQLite store is read like MySQL. On RocketMQ also `topic:` (the
 * role's own topics routed by the name server) and `consume delay:` (a subscription behind).
 */
export function readiness(deps: ReadinessDeps): HealthSource {
  const probes: [string, () => Promise<void>][] = [];
  const ping = (deps.cache as Partial<{ ping(): Promise<void> }>).ping;
  if (typeof ping === 'function') probes.push(['redis', () => ping.call(deps.cache)]);
  const store = deps.store;
  // One indexed read, on MySQL and on the standalone's SQLite file alike.
  if (store) probes.push(['database', async () => void (await store.users.findById(1))]);
  const bus = deps.bus;
  if (bus instanceof RocketMqBus) {
    if (deps.rmqEndpoints) probes.push(['broker', () => reachable(deps.rmqEndpoints!)]);
    probes.push([
      'subscription',
      async () => {
        const problems = bus.subscriptionProblems();
        if (problems.length) throw new Error(problems.join('; '));
      },
    ]);
    const topics = deps.ownTopics ?? [];
    if (topics.length > 0)
      probes.push([
        'topic',
        async () => {
          const routed = await Promise.all(topics.map((t) => bus.topicRouted(t)));
          const missing = topics.filter((_, i) => !routed[i]);
          if (missing.length)
            throw new Error(`${missing.join(', ')} not provisioned (no route on the name server)`);
        },
      ]);
    const maxDelay = deps.maxConsumeDelayMs ?? 0;
    if (maxDelay > 0)
      probes.push([
        'consume delay',
        async () => {
          const behind = bus.consumeDelays().filter((d) => d.ms > maxDelay);
          if (behind.length)
            throw new Error(
              `${behind.map((d) => `${d.topic}/${d.group}: oldest message in flight is ${d.ms} ms old`).join('; ')} (limit ${maxDelay} ms)`,
            );
        },
      ]);
    const maxLag = deps.maxLag ?? 0;
    if (maxLag > 0)
      probes.push([
        'consumer lag',
        async () => {
          const subs = bus.consumeDelays();
          const lags = await Promise.all(subs.map((s) => bus.consumerLag(s.group, s.topic)));
          const behind = lags.filter((l) => l.lag > maxLag);
          if (behind.length)
            throw new Error(
              `${behind.map((l) => `${l.topic}/${l.group}: ${l.lag} messages not consumed`).join('; ')} (limit ${maxLag})`,
            );
        },
      ]);
  }
  return {
    async check() {
      const results = await Promise.all(probes.map(([name, probe]) => bounded(name, probe)));
      return results.filter((r): r is string => r !== undefined);
    },
  };
}

async function bounded(name: string, probe: () => Promise<void>): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${PROBE_TIMEOUT_MS} ms`)), PROBE_TIMEOUT_MS);
  });
  try {
    await Promise.race([probe(), timeout]);
    return undefined;
  } catch (err) {
    return `${name}: ${err instanceof Error ? err.message : String(err)}`;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Resolves when one of the endpoints accepts a TCP connection. Every endpoint is tried at once and
 * each attempt is destroyed after `timeoutMs`, so a host that drops packets neither hides a
 * healthy endpoint behind it nor leaves a socket open per probe.
 */
async function reachable(list: string, timeoutMs = 1_500): Promise<void> {
  const endpoints = list
    .split(/[;,]/)
    .map((e) => e.trim())
    .filter((e) => e !== '');
  const results = await Promise.all(
    endpoints.map((endpoint) => {
      const at = endpoint.lastIndexOf(':');
      const host = endpoint.slice(0, at).replace(/^\[|\]$/g, '');
      const port = Number(endpoint.slice(at + 1));
      return new Promise<string | undefined>((resolve) => {
        const socket = connect({ host, port });
        const done = (e?: string) => {
          clearTimeout(timer);
          socket.destroy();
          resolve(e);
        };
        const timer = setTimeout(() => done(`no answer within ${timeoutMs} ms`), timeoutMs);
        socket.once('connect', () => done());
        socket.once('error', (e: NodeJS.ErrnoException) => done(e.code ?? e.message));
      });
    }),
  );
  if (results.some((error) => error === undefined)) return;
  throw new Error(`proxy unreachable (${endpoints.map((e, i) => `${e} ${results[i]}`).join(', ')})`);
}
