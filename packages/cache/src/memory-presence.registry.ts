import { checkInstance, checkPositive } from './cache.args';
import type { InstanceInfo, LiveInstance, PresenceRegistry } from './cache.port';

/** In-process `PresenceRegistry`: one record per (role, id), expiry checked on read. */
export class MemoryPresenceRegistry implements PresenceRegistry {
  private readonly records = new Map<string, LiveInstance>();

  constructor(private readonly guard: () => void) {}

  async beat(info: InstanceInfo, ttlMs: number): Promise<boolean> {
    this.guard();
    checkInstance(info);
    checkPositive('ttlMs', ttlMs);
    const now = Date.now();
    const key = `${info.role}|${info.id}`;
    const previous = this.records.get(key);
    this.records.set(key, { ...info, beatAt: now, expiresAt: now + ttlMs });
    return previous === undefined || previous.expiresAt <= now;
  }

  async leave(role: string, id: string): Promise<void> {
    this.guard();
    this.records.delete(`${role}|${id}`);
  }

  async list(): Promise<LiveInstance[]> {
    this.guard();
    const now = Date.now();
    const live: LiveInstance[] = [];
    for (const [key, record] of this.records) {
      if (record.expiresAt > now) live.push({ ...record });
      else this.records.delete(key);
    }
    return live.sort(byRoleThenId);
  }

  clear(): void {
    this.records.clear();
  }
}

export function byRoleThenId(a: InstanceInfo, b: InstanceInfo): number {
  return a.role === b.role ? a.id.localeCompare(b.id, 'en', { numeric: true }) : a.role.localeCompare(b.role);
}
