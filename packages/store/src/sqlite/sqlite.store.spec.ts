import Database from 'better-sqlite3';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createSqliteStore,
  StoreSchemaError,
  UserAlreadyExistsError,
  type SqliteStoreOptions,
  type Store,
} from '../index';
import { DEFAULT_MIGRATIONS_DIR } from '../migration/sql-migration.provider';
import { runStoreContract, type RawPasswords } from '../testing';
import { waitFor } from '@mqim/testing';

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

function rawDb<T>(store: Store, fn: (db: Database.Database) => T): T {
  const db = new Database(optionsOf.get(store)!.filename);
  try {
    db.pragma('busy_timeout = 5000');
    return fn(db);
  } finally {
    db.close();
  }
}

const rawPasswords: RawPasswords = {
  read: async (store, userId) =>
    rawDb(store, (db) => {
      const row = db
        .prepare('select password_md5 as md5, password_hash as hash from im_user where user_id = ?')
        .get(userId) as { md5: string | null; hash: string | null };
      return { md5: row.md5, hash: row.hash };
    }),
  writeLegacyMd5: async (store, userId, md5) => {
    rawDb(store, (db) =>
      db
        .prepare('update im_user set password_md5 = ?, password_hash = null where user_id = ?')
        .run(md5, userId),
    );
  },
};

runStoreContract('SqliteStore', {
  create: ({ clock }) => open({ filename: join(dir, `contract-${files++}.db`), clock }),
  reopen,
  rawPasswords,
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
  rawPasswords,
});

describe('SqliteStore', () => {
  it('migrate 0002 - existing rows: colliding names keep their login, bare MD5s are upgraded at login', async () => {
    const filename = join(dir, `m0002-${files++}.db`);
    const only0001 = join(dir, `migrations-0001-${files++}`);
    mkdirSync(join(only0001, 'sqlite'), { recursive: true });
    copyFileSync(
      join(DEFAULT_MIGRATIONS_DIR, 'sqlite/0001_init.sql'),
      join(only0001, 'sqlite/0001_init.sql'),
    );
    await (await open({ filename, migrationsDir: only0001 })).close();
    const md5 = 'e10adc3949ba59abbe56e057f20f883e';
    const raw = new Database(filename);
    raw
      .prepare(
        "insert into im_user (user_id, user_name, password_md5, created_at, updated_at) values (5, 'Alice', ?, 1, 1), (6, 'alice', ?, 1, 1)",
      )
      .run(md5, md5);
    raw.close();
    const store = await open({ filename });
    try {
      expect(await store.users.verifyPassword('Alice', md5)).toMatchObject({ userId: 5 });
      expect(await store.users.verifyPassword('alice', md5)).toMatchObject({ userId: 6 });
      expect(await store.users.verifyPassword('ALICE', md5)).toMatchObject({ userId: 5 });
      await expect(store.users.create({ userName: 'aLiCe' })).rejects.toBeInstanceOf(UserAlreadyExistsError);
      const rows = rawDb(store, (db) =>
        db
          .prepare(
            'select user_id as id, user_name_key as k, password_md5 as m from im_user order by user_id',
          )
          .all(),
      );
      expect(rows).toEqual([
        { id: 5, k: 'alice', m: null },
        { id: 6, k: null, m: null },
      ]);
    } finally {
      await store.close();
    }
  });

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
        'im_message_recall', // one table, not sharded (migration 0003)
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

  it('password hash cost - new hashes use the configured cost; a store with a higher one re-hashes at login', async () => {
    const filename = join(dir, `cost-${files++}.db`);
    const md5 = '202cb962ac59075b964b07152d234b70';
    const cheap = await open({ filename, passwordHashCost: 10 });
    const user = await cheap.users.create({ userName: 'cost-user', passwordMd5: md5 });
    expect((await rawPasswords.read(cheap, user.userId)).hash).toMatch(/^scrypt\$10\$8\$1\$/);
    await cheap.close();
    const strict = await open({ filename });
    expect(await strict.users.verifyPassword('cost-user', md5)).toMatchObject({ userId: user.userId });
    expect((await rawPasswords.read(strict, user.userId)).hash).toMatch(/^scrypt\$14\$8\$1\$/);
    expect(await strict.users.verifyPassword('cost-user', md5)).toMatchObject({ userId: user.userId });
    await strict.close();
    await expect(createSqliteStore({ filename, passwordHashCost: 9 })).rejects.toThrow(/passwordHashCost/);
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

  it('checkpoints - the WAL is copied into the database by the background thread, not by commits', async () => {
    // The main connection's autocheckpoint is pushed out of reach, so only the thread can move
    // the written pages into the database file; without it the file stays at its schema size.
    const stores: Store[] = [];
    const write = async (backgroundCheckpoint: boolean) => {
      const filename = join(dir, `ckpt-${files++}.db`);
      const store = await open({
        filename,
        walAutocheckpointPages: 1 << 24,
        backgroundCheckpoint,
        checkpointIntervalMs: 20,
      });
      stores.push(store);
      const saves: Promise<unknown>[] = [];
      for (let i = 0; i < 2_000; i++) {
        saves.push(
          store.messages.save(
            {
              serverMsgId: i + 1,
              clientMsgId: `c${i}`,
              fromUserId: 1,
              sessionType: 1,
              toSessionId: 2,
              msgType: 1,
              msgData: Buffer.alloc(1024, i),
              createTime: 1,
            },
            [1, 2],
          ),
        );
      }
      await Promise.all(saves);
      return filename;
    };
    try {
      const withThread = await write(true);
      const without = await write(false);
      // 2,000 messages x 2 timelines x 1 KiB: several MiB once checkpointed.
      await waitFor(() => statSync(withThread).size > 4 << 20, {
        timeoutMs: 5_000,
        message: 'the background thread checkpointed the WAL',
      });
      await new Promise((r) => setTimeout(r, 200));
      expect(statSync(without).size).toBeLessThan(1 << 20);
    } finally {
      for (const store of stores) await store.close();
    }
  });
});
