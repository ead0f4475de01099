import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteStore, StoreSchemaError, type SqliteStoreOptions, type Store } from '../index';
import { runStoreContract } from '../testing';

const dir = mkdtempSync(join(tmpdir(), 'mqim-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
const optionsOf = new WeakMap<Store, SqliteStoreOptions>();

async function open(options: SqliteStoreOptions): Promise<Store> {
  const store = await createSqliteStore(options);
  optionsOf.set(store, options);
  return store;
}

async function reopen(store: Store): Promise<Store> {
  await store.close();
  return open(optionsOf.get(store)!);
}

runStoreContract('SqliteStore', {
  create: ({ clock }) => open({ filename: join(dir, `contract-${files++}.db`), clock }),
  reopen,
});

runStoreContract('SqliteStore (no group commit, synchronous=full, 3 shards)', {
  create: ({ clock }) =>
    open({
      filename: join(dir, `contract-${files++}.db`),
      clock,
      groupCommit: false,
      synchronous: 'full',
      shards: 3,
    }),
  reopen,
});

describe('SqliteStore', () => {
  it('open - the file is in WAL mode with the configured shard tables', async () => {
    const filename = join(dir, `wal-${files++}.db`);
    const store = await open({ filename, shards: 2 });
    await store.close();
    const raw = new Database(filename, { readonly: true });
    try {
      expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
      const tables = raw
        .prepare(
          "select name from sqlite_master where type = 'table' and name like 'im_message_%' order by name",
        )
        .pluck()
        .all();
      expect(tables).toEqual([
        'im_message_recv_0',
        'im_message_recv_1',
        'im_message_send_0',
        'im_message_send_1',
      ]);
    } finally {
      raw.close();
    }
  });

  it('open - a file created with another shard count is refused', async () => {
    const filename = join(dir, `shards-${files++}.db`);
    await (await open({ filename, shards: 4 })).close();
    await expect(createSqliteStore({ filename, shards: 8 })).rejects.toBeInstanceOf(StoreSchemaError);
    await (await open({ filename, shards: 4 })).close();
  });

  it('group commit - hundreds of concurrent saves share transactions, each caller gets its own result', async () => {
    const filename = join(dir, `batch-${files++}.db`);
    const store = await open({ filename });
    const raw = new Database(filename, { readonly: true });
    try {
      const before = raw.pragma('data_version', { simple: true });
      const saves = Array.from({ length: 300 }, (_, i) =>
        store.messages.save(
          {
            serverMsgId: i + 1,
            clientMsgId: `m${i}`,
            fromUserId: 1 + (i % 3),
            sessionType: 2,
            toSessionId: 100,
            msgType: 1,
            msgData: Buffer.from(`#${i}`),
            createTime: 1,
          },
          [1, 2, 3],
        ),
      );
      expect(await Promise.all(saves)).toEqual(Array(300).fill('inserted'));
      expect((await store.messages.history(2, 2, 100, { limit: 1000 })).map((m) => m.serverMsgId)).toEqual(
        Array.from({ length: 300 }, (_, i) => i + 1),
      );
      // data_version changes once per commit by another connection: far fewer than 300.
      const commits = Number(raw.pragma('data_version', { simple: true })) - Number(before);
      expect(commits).toBeGreaterThan(0);
      expect(commits).toBeLessThan(30);
    } finally {
      raw.close();
      await store.close();
    }
  });
});
