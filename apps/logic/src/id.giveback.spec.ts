import { MemoryCache } from '@mqim/cache';
import { StoreOutcomeUnknownError, StoreUnavailableError, createSqliteStore, type Store } from '@mqim/store';
import pino from 'pino';
import { giveBack } from './id.giveback';
import type { LogicDeps } from './logic-deps';

describe('id give-back - a failed write returns its server_msg_id unless it may have committed', () => {
  let store: Store;
  let cache: MemoryCache;
  let deps: LogicDeps;
  const conv = { type: 1, a: 1, b: 2 } as const;
  const key = 's:1:2';
  beforeEach(async () => {
    store = await createSqliteStore({ filename: ':memory:' });
    cache = new MemoryCache();
    deps = { store, cache, logger: pino({ level: 'silent' }) } as unknown as LogicDeps;
  });
  afterEach(async () => {
    await cache.close();
    await store.close();
  });

  const next = () => cache.sequences.next(key, () => Promise.resolve(0));

  it('a write that failed before reaching the server gives its id back: the next message takes it', async () => {
    const id = await next();
    await giveBack(deps, key, conv, id, new StoreUnavailableError('connect ECONNREFUSED'));
    expect(await next()).toBe(id);
  });

  it('a write whose answer was lost keeps its id: the commit may still land, so the id is not handed out twice', async () => {
    const id = await next();
    await giveBack(
      deps,
      key,
      conv,
      id,
      new StoreOutcomeUnknownError('connection lost after the commit was sent'),
    );
    expect(await next()).toBe(id + 1);
  });
});
