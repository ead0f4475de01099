import pino from 'pino';
import { MemoryBus } from '@mqim/bus';
import { MemoryCache } from '@mqim/cache';
import { createSqliteStore } from '@mqim/store';
import { readiness } from './readiness';

describe('readiness - the standalone store is probed too', () => {
  it('is ready with an open SQLite store and names the database once it is gone', async () => {
    const store = await createSqliteStore({ filename: ':memory:' });
    const bus = new MemoryBus({ logger: pino({ level: 'silent' }) });
    const cache = new MemoryCache();
    const health = readiness({ bus, cache, store });
    expect(await health.check()).toEqual([]);
    await store.close();
    const problems = await health.check();
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^database: /);
    await bus.close();
    await cache.close();
  });
});
