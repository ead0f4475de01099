import type Redis from 'ioredis';
import { checkGateId, checkId, checkPageLimit, checkPositive, checkRoute } from './cache.args';
import type { OnlinePage, Route, RouteTable } from './cache.port';
import { execPipeline, guarded } from './redis.client';
import type { RedisKeys } from './redis.keys';

/**
 * `RouteTable` on Redis: one hash per user (batched lookup = one HGETALL per user in a single
 * pipeline), per-route expiry stored in the value, the key TTL following its latest route, and a
 * sorted set per gate for `removeGate`. Layout and round trips: docs/cache.md.
 */
export class RedisRouteTable implements RouteTable {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  async register(route: Route, ttlMs: number): Promise<void> {
    await this.refresh([route], ttlMs);
  }

  async unregister(userId: number, gateId: string, connId: string): Promise<void> {
    checkId('userId', userId);
    checkGateId(gateId);
    // The user leaves the gate's index once no live route of theirs is left there, so the index
    // answers "who is online on this gate" (`online`) without reading every route hash.
    await guarded(() =>
      this.redis.mqimRouteRemove(
        this.keys.route(userId),
        this.keys.gate(gateId),
        this.keys.gates(),
        `${gateId}|${connId}`,
        `${gateId}|`,
        String(userId),
        String(Date.now()),
        gateId,
      ),
    );
  }

  async refresh(routes: readonly Route[], ttlMs: number): Promise<void> {
    checkPositive('ttlMs', ttlMs);
    routes.forEach(checkRoute);
    if (routes.length === 0) return;
    const now = Date.now();
    const expiresAt = now + ttlMs;
    const nowArg = String(now);
    const pipeline = this.redis.pipeline();
    const usersByGate = new Map<string, Set<number>>();
    for (const r of routes) {
      pipeline.mqimRouteUpsert(
        this.keys.route(r.userId),
        `${r.gateId}|${r.connId}`,
        `${expiresAt}|${r.clientType}|${r.loginAt}${r.tokenId ? `|${r.tokenId}` : ''}`,
        nowArg,
      );
      let users = usersByGate.get(r.gateId);
      if (users === undefined) usersByGate.set(r.gateId, (users = new Set()));
      users.add(r.userId);
    }
    for (const [gateId, users] of usersByGate) {
      const key = this.keys.gate(gateId);
      const members: (string | number)[] = [];
      for (const userId of users) members.push(expiresAt, userId);
      pipeline.zadd(key, 'GT', ...members);
      pipeline.zadd(this.keys.gates(), 'GT', expiresAt, gateId);
      pipeline.zremrangebyscore(key, '-inf', now);
      // NX gives a fresh key its TTL, GT extends it; neither shortens a longer one.
      pipeline.pexpire(key, ttlMs, 'NX');
      pipeline.pexpire(key, ttlMs, 'GT');
    }
    await execPipeline(pipeline);
  }

  async lookup(userIds: readonly number[]): Promise<Map<number, Route[]>> {
    userIds.forEach((id) => checkId('userId', id));
    const found = new Map<number, Route[]>();
    if (userIds.length === 0) return found;
    const unique = [...new Set(userIds)];
    // One script call per chunk, all chunks in one pipeline: a 5,000-member fan-out is 10
    // commands, not 5,000 (each costs the client far more than Redis).
    const pipeline = this.redis.pipeline();
    for (let i = 0; i < unique.length; i += LOOKUP_CHUNK) {
      const keys = unique.slice(i, i + LOOKUP_CHUNK).map((id) => this.keys.route(id));
      pipeline.mqimHgetallMany(keys.length, ...keys);
    }
    const replies = (await execPipeline(pipeline)) as string[][][];
    const now = Date.now();
    unique.forEach((userId, i) => {
      const flat = replies[Math.floor(i / LOOKUP_CHUNK)]![i % LOOKUP_CHUNK]!;
      const routes = parseRoutes(userId, flat, now);
      if (routes.length > 0) found.set(userId, routes);
    });
    return found;
  }

  async removeGate(gateId: string): Promise<void> {
    checkGateId(gateId);
    const key = this.keys.gate(gateId);
    const users = await guarded(() => this.redis.zrange(key, '0', '-1'));
    const pipeline = this.redis.pipeline();
    for (const userId of users) pipeline.mqimRouteDropGate(this.keys.route(Number(userId)), `${gateId}|`);
    // Only drop the index entries we just cleaned: a register racing this call keeps its entry.
    if (users.length > 0) pipeline.zrem(key, ...users);
    pipeline.mqimGateForget(key, this.keys.gates(), gateId);
    await execPipeline(pipeline);
  }

  async gates(): Promise<string[]> {
    const pipeline = this.redis.pipeline();
    pipeline.zremrangebyscore(this.keys.gates(), '-inf', String(Date.now()));
    pipeline.zrange(this.keys.gates(), '0', '-1');
    const replies = await execPipeline(pipeline);
    return replies[1] as string[];
  }

  async online(after: number, limit: number): Promise<OnlinePage> {
    checkId('after', after);
    checkPageLimit(limit);
    const gates = await this.gates();
    const users = new Set<number>();
    if (gates.length > 0) {
      const pipeline = this.redis.pipeline();
      const now = `(${Date.now()}`;
      for (const gateId of gates) pipeline.zrangebyscore(this.keys.gate(gateId), now, '+inf');
      for (const members of (await execPipeline(pipeline)) as string[][])
        for (const m of members) users.add(Number(m));
    }
    const sorted = [...users].sort((a, b) => a - b);
    return { total: sorted.length, userIds: sorted.filter((id) => id > after).slice(0, limit) };
  }
}

/** Route hashes per script call in `lookup` (keeps one script run short: Redis is single-threaded). */
const LOOKUP_CHUNK = 500;

/** A route hash as HGETALL returns it flat: field, value, field, value... */
function parseRoutes(userId: number, flat: readonly string[], now: number): Route[] {
  const routes: Route[] = [];
  for (let f = 0; f + 1 < flat.length; f += 2) {
    const field = flat[f]!;
    const value = flat[f + 1]!;
    const parts = value.split('|');
    const [expiresAt, clientType, loginAt] = parts.slice(0, 3).map(Number) as [number, number, number];
    if (!(expiresAt > now)) continue;
    const bar = field.indexOf('|');
    const route: Route = {
      userId,
      gateId: field.slice(0, bar),
      connId: field.slice(bar + 1),
      clientType,
      loginAt,
    };
    if (parts[3]) route.tokenId = parts[3];
    routes.push(route);
  }
  return routes;
}
