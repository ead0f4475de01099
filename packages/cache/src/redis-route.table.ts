import type Redis from 'ioredis';
import { checkGateId, checkId, checkPositive, checkRoute } from './cache.args';
import type { Route, RouteTable } from './cache.port';
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
    // The gate index keeps the user until the score (the route's expiry) passes: harmless, since
    // removeGate only deletes fields of that gate, and bounded, since refresh trims expired scores.
    await guarded(() => this.redis.hdel(this.keys.route(userId), `${gateId}|${connId}`));
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
    const pipeline = this.redis.pipeline();
    for (const userId of unique) pipeline.hgetall(this.keys.route(userId));
    const replies = await execPipeline(pipeline);
    const now = Date.now();
    unique.forEach((userId, i) => {
      const routes = parseRoutes(userId, replies[i] as Record<string, string>, now);
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
    await execPipeline(pipeline);
  }
}

function parseRoutes(userId: number, hash: Record<string, string>, now: number): Route[] {
  const routes: Route[] = [];
  for (const [field, value] of Object.entries(hash)) {
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
