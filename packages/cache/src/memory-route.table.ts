import { checkGateId, checkId, checkPageLimit, checkPositive, checkRoute } from './cache.args';
import type { OnlinePage, Route, RouteTable } from './cache.port';

interface Entry {
  route: Route;
  expiresAt: number;
}

/**
 * In-process `RouteTable`: user → (gate|conn → route), expiry checked lazily on read, plus a full
 * purge at most once per TTL (driven by the gates' refresh sweeps) so routes of users nobody
 * looks up again do not pile up.
 */
export class MemoryRouteTable implements RouteTable {
  private readonly byUser = new Map<number, Map<string, Entry>>();
  private lastPurge = Date.now();

  constructor(private readonly guard: () => void) {}

  async register(route: Route, ttlMs: number): Promise<void> {
    this.guard();
    checkRoute(route);
    checkPositive('ttlMs', ttlMs);
    this.put(route, Date.now() + ttlMs);
  }

  async unregister(userId: number, gateId: string, connId: string): Promise<void> {
    this.guard();
    checkId('userId', userId);
    const routes = this.byUser.get(userId);
    if (routes === undefined) return;
    routes.delete(field(gateId, connId));
    if (routes.size === 0) this.byUser.delete(userId);
  }

  async refresh(routes: readonly Route[], ttlMs: number): Promise<void> {
    this.guard();
    checkPositive('ttlMs', ttlMs);
    routes.forEach(checkRoute);
    const now = Date.now();
    if (now - this.lastPurge >= ttlMs) this.purge(now);
    for (const route of routes) this.put(route, now + ttlMs);
  }

  async lookup(userIds: readonly number[]): Promise<Map<number, Route[]>> {
    this.guard();
    userIds.forEach((id) => checkId('userId', id));
    const now = Date.now();
    const found = new Map<number, Route[]>();
    for (const userId of userIds) {
      const routes = this.byUser.get(userId);
      if (routes === undefined) continue;
      const live: Route[] = [];
      for (const [key, entry] of routes) {
        if (entry.expiresAt > now) live.push({ ...entry.route });
        else routes.delete(key);
      }
      if (live.length > 0) found.set(userId, live);
      else this.byUser.delete(userId);
    }
    return found;
  }

  async removeGate(gateId: string): Promise<void> {
    this.guard();
    checkGateId(gateId);
    // A scan of every user: clean gate shutdowns are rare and the standalone server has one gate.
    for (const [userId, routes] of this.byUser) {
      for (const [key, entry] of routes) if (entry.route.gateId === gateId) routes.delete(key);
      if (routes.size === 0) this.byUser.delete(userId);
    }
  }

  async gates(): Promise<string[]> {
    this.guard();
    const now = Date.now();
    const ids = new Set<string>();
    for (const routes of this.byUser.values())
      for (const entry of routes.values()) if (entry.expiresAt > now) ids.add(entry.route.gateId);
    return [...ids];
  }

  async online(after: number, limit: number): Promise<OnlinePage> {
    this.guard();
    checkId('after', after);
    checkPageLimit(limit);
    const now = Date.now();
    const users: number[] = [];
    for (const [userId, routes] of this.byUser) {
      for (const entry of routes.values()) {
        if (entry.expiresAt > now) {
          users.push(userId);
          break;
        }
      }
    }
    users.sort((a, b) => a - b);
    return { total: users.length, userIds: users.filter((id) => id > after).slice(0, limit) };
  }

  clear(): void {
    this.byUser.clear();
  }

  private put(route: Route, expiresAt: number): void {
    let routes = this.byUser.get(route.userId);
    if (routes === undefined) {
      routes = new Map();
      this.byUser.set(route.userId, routes);
    }
    routes.set(field(route.gateId, route.connId), { route: { ...route }, expiresAt });
  }

  private purge(now: number): void {
    this.lastPurge = now;
    for (const [userId, routes] of this.byUser) {
      for (const [key, entry] of routes) if (entry.expiresAt <= now) routes.delete(key);
      if (routes.size === 0) this.byUser.delete(userId);
    }
  }
}

function field(gateId: string, connId: string): string {
  return `${gateId}|${connId}`;
}
