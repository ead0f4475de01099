import { describeInfra, probeMysql, uniqueName } from '@mqim/testing';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection, type Connection } from 'mysql2/promise';
import {
  createMysqlStore,
  StoreOutcomeUnknownError,
  StoreSchemaError,
  UserAlreadyExistsError,
  type MysqlStoreOptions,
  type Store,
} from '../index';
import { DEFAULT_MIGRATIONS_DIR } from '../migration/sql-migration.provider';
import { runStoreContract, type RawPasswords } from '../testing';
import { OneTripTransaction } from './one-trip.transaction';

const mysql = probeMysql();
const databases: string[] = [];
const optionsOf = new WeakMap<Store, MysqlStoreOptions>();

function serverUri(): URL {
  const url = new URL(mysql.uri);
  url.pathname = '/';
  return url;
}

async function admin<T>(fn: (conn: Connection) => Promise<T>): Promise<T> {
  const conn = await createConnection({ uri: serverUri().toString() });
  try {
    return await fn(conn);
  } finally {
    await conn.end();
  }
}

/** A new, empty database on the test server; dropped in `dropAll`. */
async function newDatabase(prefix: string): Promise<string> {
  const name = uniqueName(prefix);
  await admin((c) => c.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`));
  databases.push(name);
  return name;
}

function uriFor(database: string): string {
  const url = serverUri();
  url.pathname = `/${database}`;
  return url.toString();
}

async function open(options: MysqlStoreOptions): Promise<Store> {
  const store = await createMysqlStore(options);
  optionsOf.set(store, options);
  return store;
}

async function dropAll(): Promise<void> {
  const names = databases.splice(0);
  await admin(async (c) => {
    for (const name of names) await c.query(`DROP DATABASE IF EXISTS \`${name}\``);
  });
}

async function onStoreDb<T>(store: Store, fn: (conn: Connection) => Promise<T>): Promise<T> {
  const conn = await createConnection({ uri: optionsOf.get(store)!.uri });
  try {
    return await fn(conn);
  } finally {
    await conn.end();
  }
}

const rawPasswords: RawPasswords = {
  read: (store, userId) =>
    onStoreDb(store, async (c) => {
      const [rows] = await c.query(
        'SELECT password_md5 AS md5, password_hash AS hash FROM im_user WHERE user_id = ?',
        [userId],
      );
      const row = (rows as Array<{ md5: string | null; hash: string | null }>)[0]!;
      return { md5: row.md5, hash: row.hash };
    }),
  writeLegacyMd5: async (store, userId, md5) => {
    await onStoreDb(store, (c) =>
      c.query('UPDATE im_user SET password_md5 = ?, password_hash = NULL WHERE user_id = ?', [md5, userId]),
    );
  },
};

describeInfra('MysqlStore', mysql, () => {
  runStoreContract('MysqlStore', {
    async create({ clock }) {
      const store = await open({
        uri: uriFor(await newDatabase('store_contract')),
        clock,
        connectionLimit: 8,
      });
      await store.migrate();
      return store;
    },
    async reopen(store) {
      await store.close();
      return open(optionsOf.get(store)!);
    },
    cleanup: dropAll,
    rawPasswords,
  });

  runStoreContract('MysqlStore (no group commit, text protocol, 3 shards)', {
    async create({ clock }) {
      const uri = uriFor(await newDatabase('store_contract_plain'));
      const store = await open({ uri, clock, groupCommit: false, preparedStatements: false, shards: 3 });
      await store.migrate();
      return store;
    },
    async reopen(store) {
      await store.close();
      return open(optionsOf.get(store)!);
    },
    cleanup: dropAll,
    rawPasswords,
  });

  describe('MysqlStore - dialect specifics', () => {
    let database: string;
    let store: Store;

    beforeAll(async () => {
      database = await newDatabase('store_mysql');
      store = await open({ uri: uriFor(database) });
      await store.migrate();
    });
    afterAll(async () => {
      await store?.close();
      await dropAll();
    });

    it('schema - InnoDB, utf8mb4, BIGINT UNSIGNED ids, one table per shard', async () => {
      const tables = await admin(async (c) => {
        const [rows] = await c.query(
          'SELECT table_name AS t, engine AS e, table_collation AS co FROM information_schema.tables WHERE table_schema = ? ORDER BY table_name',
          [database],
        );
        return rows as Array<{ t: string; e: string; co: string }>;
      });
      const names = tables.map((r) => r.t);
      for (let k = 0; k < 4; k++)
        expect(names).toEqual(expect.arrayContaining([`im_message_send_${k}`, `im_message_recv_${k}`]));
      expect(names).not.toContain('im_message_send_4');
      expect(tables.every((r) => r.e === 'InnoDB' && r.co.startsWith('utf8mb4'))).toBe(true);
      const [columns] = await admin((c) =>
        c.query(
          "SELECT column_type AS ty FROM information_schema.columns WHERE table_schema = ? AND table_name = 'im_message_recv_0' AND column_name = 'server_msg_id'",
          [database],
        ),
      );
      expect(columns).toEqual([{ ty: 'bigint(20) unsigned' }]);
    });

    it('bigint - an id beyond 2^53 in the database is an error, never a rounded number', async () => {
      const other = await newDatabase('store_bigint');
      const big = await open({ uri: uriFor(other) });
      try {
        await big.migrate();
        await admin((c) =>
          c.query(
            `INSERT INTO \`${other}\`.im_user (user_id, attach_info, created_at, updated_at) VALUES (?, '', 1, 1)`,
            ['9007199254740993'],
          ),
        );
        const outOfRange = { code: 'IM_ERR_ID_OUT_OF_RANGE' };
        await expect(big.users.list({ limit: 10, afterId: 2 ** 52 })).rejects.toMatchObject(outOfRange);
        // AUTO_INCREMENT now points past 2^53: the insert is refused and rolled back.
        await expect(big.users.create({ userName: 'next' })).rejects.toMatchObject(outOfRange);
        expect(await big.users.findByName('next')).toBeNull();
      } finally {
        await big.close();
      }
    });

    it('prepared statements - parameterised queries run through COM_STMT_EXECUTE', async () => {
      const executes = async () =>
        admin(async (c) => {
          const [rows] = await c.query("SHOW GLOBAL STATUS LIKE 'Com_stmt_execute'");
          return Number((rows as Array<{ Value: string }>)[0]!.Value);
        });
      const before = await executes();
      for (let i = 0; i < 5; i++) await store.users.findById(12345 + i);
      expect((await executes()) - before).toBeGreaterThanOrEqual(5);
    });

    it('utf8mb4 - 4-byte characters and binary payloads round-trip', async () => {
      const user = await store.users.create({ nickName: '😀 名前', userName: `emoji-${Date.now()}` });
      expect((await store.users.findById(user.userId))?.nickName).toBe('😀 名前');
      const payload = Buffer.from([0, 255, 1, 254, 0x27, 0x5c]);
      await store.messages.save(
        {
          serverMsgId: 1,
          clientMsgId: 'bin',
          fromUserId: 7,
          sessionType: 1,
          toSessionId: 8,
          msgType: 1,
          msgData: payload,
          createTime: 1,
        },
        [7, 8],
      );
      expect(Buffer.from((await store.messages.latest(8, 1, 7))!.msgData)).toEqual(payload);
    });

    it('one trip - a group commit goes as one multi-statement round trip; escaped values round-trip byte for byte', async () => {
      const run = jest.spyOn(OneTripTransaction.prototype, 'run');
      try {
        // Every byte value, quotes and backslashes in the blob; quote, backslash and question marks
        // in the client id: what format() escapes into the text must come back unchanged.
        const payload = Buffer.from(Array.from({ length: 512 }, (_, i) => i % 256));
        const ids = Array.from({ length: 20 }, (_, i) => `it's\\a?${i}`);
        const saves = ids.map((clientMsgId, i) =>
          store.messages.save(
            {
              serverMsgId: 1,
              clientMsgId,
              fromUserId: 100 + i,
              sessionType: 1,
              toSessionId: 200 + i,
              msgType: 1,
              msgData: payload,
              createTime: 1,
            },
            [100 + i, 200 + i],
          ),
        );
        expect(await Promise.all(saves)).toEqual(ids.map(() => 'inserted'));
        expect(run).toHaveBeenCalled();
        await expect(run.mock.results[0]!.value).resolves.toBeUndefined();
        for (let i = 0; i < ids.length; i++) {
          const got = await store.messages.findSent(100 + i, ids[i]!);
          expect(got?.clientMsgId).toBe(ids[i]);
          expect(Buffer.from(got!.msgData)).toEqual(payload);
          expect(Buffer.from((await store.messages.latest(200 + i, 1, 100 + i))!.msgData)).toEqual(payload);
        }
      } finally {
        run.mockRestore();
      }
    });

    it('one trip - a batch that fails on the server is rolled back whole, redone the long way, and the next batch goes in one trip again', async () => {
      const base = {
        sessionType: 1,
        msgType: 1,
        msgData: Buffer.from('x'),
        createTime: 1,
      } as const;
      await store.messages.save(
        { ...base, serverMsgId: 1, clientMsgId: 'first', fromUserId: 301, toSessionId: 302 },
        [301, 302],
      );
      const run = jest.spyOn(OneTripTransaction.prototype, 'run');
      try {
        // One stored duplicate fails the one-trip insert; the long way answers it 'duplicate'
        // and stores the others exactly once.
        const batch = await Promise.all([
          store.messages.save(
            { ...base, serverMsgId: 1, clientMsgId: 'first', fromUserId: 301, toSessionId: 302 },
            [301, 302],
          ),
          store.messages.save(
            { ...base, serverMsgId: 1, clientMsgId: 'second', fromUserId: 303, toSessionId: 304 },
            [303, 304],
          ),
          store.messages.save(
            { ...base, serverMsgId: 1, clientMsgId: 'third', fromUserId: 305, toSessionId: 306 },
            [305, 306],
          ),
        ]);
        expect(batch).toEqual(['duplicate', 'inserted', 'inserted']);
        await expect(run.mock.results[0]!.value).rejects.toBeDefined();
        const timeline = await store.messages.latest(304, 1, 303);
        expect(timeline?.clientMsgId).toBe('second');
        const rows = await admin(async (c) => {
          const [r] = await c.query(
            `SELECT COUNT(*) AS n FROM \`${database}\`.im_session WHERE owner_user_id IN (301, 302, 303, 304, 305, 306)`,
          );
          return Number((r as Array<{ n: number }>)[0]!.n);
        });
        expect(rows).toBe(6);
        // The rolled-back attempt counted nothing: the recipient of the duplicate has one unread.
        expect((await store.sessions.get(302, 1, 301))?.unreadCnt).toBe(1);

        run.mockClear();
        const next = await Promise.all(
          [307, 309].map((from) =>
            store.messages.save(
              { ...base, serverMsgId: 1, clientMsgId: 'after', fromUserId: from, toSessionId: from + 1 },
              [from, from + 1],
            ),
          ),
        );
        expect(next).toEqual(['inserted', 'inserted']);
        expect(run).toHaveBeenCalledTimes(1);
        await expect(run.mock.results[0]!.value).resolves.toBeUndefined();
      } finally {
        run.mockRestore();
      }
    });

    it('one trip - values stay values when the server runs with NO_BACKSLASH_ESCAPES', async () => {
      const mode = await admin(async (c) => {
        const [rows] = await c.query('SELECT @@GLOBAL.sql_mode AS m');
        return (rows as Array<{ m: string }>)[0]!.m;
      });
      // New connections take the global mode: the store opened below runs with it.
      await admin((c) => c.query("SET GLOBAL sql_mode = CONCAT(@@GLOBAL.sql_mode, ',NO_BACKSLASH_ESCAPES')"));
      let other: Store | undefined;
      try {
        other = await open({ uri: uriFor(await newDatabase('store_nbe')) });
        await other.migrate();
        const run = jest.spyOn(OneTripTransaction.prototype, 'run');
        const attach = "x'); DROP TABLE im_user; -- \\ '";
        const saves = [1, 2].map((i) =>
          other!.messages.save(
            {
              serverMsgId: 1,
              clientMsgId: `q'\\${i}`,
              fromUserId: 400 + i,
              sessionType: 1,
              toSessionId: 500 + i,
              msgType: 1,
              msgData: Buffer.from("'\\"),
              attach,
              createTime: 1,
            },
            [400 + i, 500 + i],
          ),
        );
        expect(await Promise.all(saves)).toEqual(['inserted', 'inserted']);
        // In one trip, not rescued by the long way after a syntax error.
        await expect(run.mock.results[0]!.value).resolves.toBeUndefined();
        run.mockRestore();
        const got = await other.messages.findSent(401, "q'\\1");
        expect(got?.attach).toBe(attach);
        expect(Buffer.from(got!.msgData).toString()).toBe("'\\");
        expect(await other.users.findById(1)).toBeNull(); // im_user is still there to ask
      } finally {
        await admin((c) => c.query('SET GLOBAL sql_mode = ?', [mode]));
        await other?.close();
      }
    });

    it('one trip - a connection lost after the batch was sent is "outcome unknown", not "nothing stored"', async () => {
      const base = { sessionType: 1, msgType: 1, msgData: Buffer.from('x'), createTime: 1 } as const;
      // A row the batch will upsert, locked by another session: the batch waits inside its transaction.
      await store.messages.save(
        { ...base, serverMsgId: 1, clientMsgId: 'lock-1', fromUserId: 601, toSessionId: 602 },
        [601, 602],
      );
      const holder = await createConnection({ uri: uriFor(database) });
      try {
        await holder.query('START TRANSACTION');
        await holder.query(
          'SELECT * FROM im_conversation WHERE session_type = 1 AND peer_lo = 601 FOR UPDATE',
        );
        const saving = store.messages.save(
          { ...base, serverMsgId: 2, clientMsgId: 'lock-2', fromUserId: 601, toSessionId: 602 },
          [601, 602],
        );
        saving.catch(() => undefined);
        // The group commit's connection, waiting for the lock: kill it as a network failure would.
        let thread: number | undefined;
        for (let i = 0; i < 100 && thread === undefined; i++) {
          const [rows] = await holder.query(
            "SELECT id FROM information_schema.processlist WHERE db = ? AND id <> CONNECTION_ID() AND info LIKE '%into `im_conversation`%'",
            [database],
          );
          thread = (rows as Array<{ id: number }>)[0]?.id;
          if (thread === undefined) await new Promise((r) => setTimeout(r, 20));
        }
        expect(thread).toBeDefined();
        await admin((c) => c.query(`KILL ${Number(thread)}`));
        await expect(saving).rejects.toBeInstanceOf(StoreOutcomeUnknownError);
      } finally {
        await holder.query('ROLLBACK');
        await holder.end();
      }
    });

    it('open - a database migrated with another shard count is refused', async () => {
      await expect(createMysqlStore({ uri: uriFor(database), shards: 8 })).rejects.toBeInstanceOf(
        StoreSchemaError,
      );
    });

    it('migrate 0002 - existing rows: colliding names keep their login, bare MD5s upgrade; re-run is harmless', async () => {
      const old = await newDatabase('store_migrate_0002');
      const only0001 = mkdtempSync(join(tmpdir(), 'mqim-mig-'));
      try {
        mkdirSync(join(only0001, 'mysql'));
        copyFileSync(
          join(DEFAULT_MIGRATIONS_DIR, 'mysql/0001_init.sql'),
          join(only0001, 'mysql/0001_init.sql'),
        );
        const before = await open({ uri: uriFor(old), migrationsDir: only0001 });
        await before.migrate();
        await before.close();
        const md5 = 'e10adc3949ba59abbe56e057f20f883e';
        await admin((c) =>
          c.query(
            `INSERT INTO \`${old}\`.im_user (user_id, user_name, attach_info, password_md5, created_at, updated_at) VALUES (5, 'Alice', '', ?, 1, 1), (6, 'alice', '', ?, 1, 1)`,
            [md5, md5],
          ),
        );
        const after = await open({ uri: uriFor(old) });
        try {
          await after.migrate();
          // What a crash right after the last statement, before it was recorded, would re-run.
          await admin((c) => c.query(`DELETE FROM \`${old}\`.im_schema_migration WHERE name LIKE '0002%'`));
          await after.migrate();
          expect(await after.users.verifyPassword('Alice', md5)).toMatchObject({ userId: 5 });
          expect(await after.users.verifyPassword('alice', md5)).toMatchObject({ userId: 6 });
          expect(await after.users.verifyPassword('ALICE', md5)).toMatchObject({ userId: 5 });
          await expect(after.users.create({ userName: 'aLiCe' })).rejects.toBeInstanceOf(
            UserAlreadyExistsError,
          );
          const [rows] = await admin((c) =>
            c.query(
              `SELECT user_id AS id, user_name_key AS k, password_md5 AS m FROM \`${old}\`.im_user ORDER BY user_id`,
            ),
          );
          expect(rows).toEqual([
            { id: 5, k: 'alice', m: null },
            { id: 6, k: null, m: null },
          ]);
        } finally {
          await after.close();
        }
      } finally {
        rmSync(only0001, { recursive: true, force: true });
      }
    });

    it('migrate - concurrent runs on a fresh database serialise', async () => {
      const fresh = await newDatabase('store_migrate');
      const stores = await Promise.all([1, 2, 3].map(() => open({ uri: uriFor(fresh), connectionLimit: 2 })));
      try {
        await Promise.all(stores.map((s) => s.migrate()));
        const [rows] = await admin((c) => c.query(`SELECT name FROM \`${fresh}\`.im_schema_migration`));
        // Every migration of the directory, once each, in name order.
        const names = readdirSync(join(DEFAULT_MIGRATIONS_DIR, 'mysql'))
          .filter((f) => f.endsWith('.sql'))
          .sort()
          .map((f) => ({ name: f.slice(0, -'.sql'.length) }));
        expect(rows).toEqual(names);
      } finally {
        await Promise.all(stores.map((s) => s.close()));
      }
    });
  });
});
