import type Redis from 'ioredis';
import { checkInstance, checkPositive } from './cache.args';
import type { InstanceInfo, LiveInstance, PresenceRegistry } from './cache.port';
import { byRoleThenId } from './memory-presence.registry';
import { guarded } from './redis.client';
import type { RedisKeys } from './redis.keys';

/**
 * `PresenceRegistry` on Redis: one hash, field `role|id` → `expiresAt|<JSON>`. A process count is
 * small (tens), so `list` reads the whole hash and drops the expired fields it finds.
 */
export class RedisPresenceRegistry implements PresenceRegistry {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  async beat(info: InstanceInfo, ttlMs: number): Promise<boolean> {
    checkInstance(info);
    checkPositive('ttlMs', ttlMs);
    const now = Date.now();
    const expiresAt = now + ttlMs;
    const record: LiveInstance = { ...info, beatAt: now, expiresAt };
    const fresh = await guarded(() =>
      this.redis.mqimPresenceBeat(
        this.keys.presence(),
        `${info.role}|${info.id}`,
        `${expiresAt}|${JSON.stringify(record)}`,
        String(now),
      ),
    );
    return fresh === 1;
  }

  async leave(role: string, id: string): Promise<void> {
    await guarded(() => this.redis.hdel(this.keys.presence(), `${role}|${id}`));
  }

  async list(): Promise<LiveInstance[]> {
    const all = await guarded(() => this.redis.hgetall(this.keys.presence()));
    const now = Date.now();
    const live: LiveInstance[] = [];
    const expired: string[] = [];
    const seen = new Map<string, string>();
    for (const [field, value] of Object.entries(all)) {
      seen.set(field, value);
      const bar = value.indexOf('|');
      if (!(Number(value.slice(0, bar)) > now)) {
        expired.push(field);
        continue;
      }
      try {
        live.push(JSON.parse(value.slice(bar + 1)) as LiveInstance);
      } catch {
        expired.push(field);
      }
    }
    if (expired.length > 0) {
      // Compare-and-delete (the receipts' confirm script): a beat landing meanwhile is kept.
      const pairs = expired.flatMap((field) => [field, seen.get(field)!]);
      await guarded(() => this.redis.mqimReceiptConfirm(this.keys.presence(), ...pairs)).catch(
        () => undefined,
      );
    }
    return live.sort(byRoleThenId);
  }
}
