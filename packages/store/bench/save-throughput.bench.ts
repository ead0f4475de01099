// Throughput of Store.messages.save() — the write path behind every acked message.
//
//   npx tsx packages/store/bench/save-throughput.bench.ts --dialect sqlite
//   npx tsx packages/store/bench/save-throughput.bench.ts --dialect mysql --uri mysql://root@127.0.0.1:3306
//
// Workload: `conversations` single chats, each a sequential stream of saves (as logic consumes a
// FIFO message group), all streams concurrent; then a group workload (members per message =
// --group-size). SQLite runs in a temp dir (same disk as the checkout); MySQL in a throwaway
// database that is dropped afterwards. Results are printed as a Markdown table.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createConnection } from 'mysql2/promise';
import { createMysqlStore, createSqliteStore, type Store } from '../src';

const { values: args } = parseArgs({
  options: {
    dialect: { type: 'string', default: 'sqlite' },
    uri: { type: 'string', default: 'mysql://root@127.0.0.1:3306' },
    messages: { type: 'string', default: '60000' },
    conversations: { type: 'string', default: '500' },
    'group-size': { type: 'string', default: '100' },
    'group-messages': { type: 'string', default: '2000' },
    pool: { type: 'string', default: '16' },
    dir: { type: 'string' },
  },
});

interface Row {
  readonly setup: string;
  readonly workload: string;
  readonly messages: number;
  readonly seconds: number;
  readonly rows: number;
  /** CPU of this process (the store's client side) per message. */
  readonly cpuUs: number;
}

const payload = Buffer.from('{"text":"hello, this is a typical short chat message"}');

async function singleChats(
  store: Store,
  total: number,
  conversations: number,
  base: number,
): Promise<number> {
  const perConversation = Math.ceil(total / conversations);
  let sent = 0;
  await Promise.all(
    Array.from({ length: conversations }, async (_, c) => {
      const a = base + 2 * c + 1;
      const b = a + 1;
      for (let id = 1; id <= perConversation; id++) {
        const from = id % 2 === 0 ? b : a;
        const result = await store.messages.save(
          {
            serverMsgId: id,
            clientMsgId: `b${a}-${id}`,
            fromUserId: from,
            sessionType: 1,
            toSessionId: from === a ? b : a,
            msgType: 1,
            msgData: payload,
            createTime: 1_700_000_000 + id,
          },
          [a, b],
        );
        if (result !== 'inserted') throw new Error(`unexpected ${result}`);
        sent++;
      }
    }),
  );
  return sent;
}

async function groupChats(store: Store, total: number, size: number, base: number): Promise<number> {
  const groups = 20;
  const perGroup = Math.ceil(total / groups);
  let sent = 0;
  await Promise.all(
    Array.from({ length: groups }, async (_, g) => {
      const members = Array.from({ length: size }, (_, i) => base + g * size + i + 1);
      for (let id = 1; id <= perGroup; id++) {
        await store.messages.save(
          {
            serverMsgId: id,
            clientMsgId: `g${g}-${id}`,
            fromUserId: members[id % size]!,
            sessionType: 2,
            toSessionId: 900_000_000 + g,
            msgType: 1,
            msgData: payload,
            createTime: 1_700_000_000 + id,
          },
          members,
        );
        sent++;
      }
    }),
  );
  return sent;
}

async function measure(setup: string, open: () => Promise<Store>, out: Row[]): Promise<void> {
  const total = Number(args.messages);
  const conversations = Number(args.conversations);
  const groupSize = Number(args['group-size']);
  const groupMessages = Number(args['group-messages']);
  const store = await open();
  try {
    // Warm-up: statement caches, pool connections, table files.
    await singleChats(store, 2000, 100, 50_000_000);

    let t0 = process.hrtime.bigint();
    let cpu0 = process.cpuUsage();
    const n = await singleChats(store, total, conversations, 0);
    let seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    let cpu = process.cpuUsage(cpu0);
    out.push({
      setup,
      workload: `single chat, ${conversations} concurrent conversations`,
      messages: n,
      seconds,
      rows: n * 2,
      cpuUs: (cpu.user + cpu.system) / n,
    });
    console.error(`${setup}: single ${Math.round(n / seconds)} msg/s`);

    t0 = process.hrtime.bigint();
    cpu0 = process.cpuUsage();
    const g = await groupChats(store, groupMessages, groupSize, 10_000_000);
    seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    cpu = process.cpuUsage(cpu0);
    out.push({
      setup,
      workload: `group of ${groupSize}, 20 concurrent groups`,
      messages: g,
      seconds,
      rows: g * groupSize,
      cpuUs: (cpu.user + cpu.system) / g,
    });
    console.error(`${setup}: group ${Math.round(g / seconds)} msg/s`);
  } finally {
    await store.close();
  }
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  if (args.dialect === 'sqlite') {
    const dir = mkdtempSync(join(args.dir ?? tmpdir(), 'mqim-bench-'));
    let i = 0;
    try {
      for (const synchronous of ['full', 'normal'] as const) {
        for (const groupCommit of [true, false]) {
          const filename = join(dir, `bench-${i++}.db`);
          await measure(
            `sqlite synchronous=${synchronous}, group commit ${groupCommit ? 'on' : 'off'}`,
            () => createSqliteStore({ filename, synchronous, groupCommit }),
            rows,
          );
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  } else if (args.dialect === 'mysql') {
    const server = new URL(args.uri!);
    server.pathname = '/';
    const database = `mqim_bench_${Date.now()}`;
    const admin = await createConnection({ uri: server.toString() });
    await admin.query(`CREATE DATABASE \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
    try {
      const [[version]] = (await admin.query('SELECT VERSION() AS v')) as unknown as [[{ v: string }]];
      const uri = new URL(server.toString());
      uri.pathname = `/${database}`;
      const setups = [
        { groupCommit: true, prepared: true, oneTrip: true },
        { groupCommit: true, prepared: true, oneTrip: false },
        { groupCommit: false, prepared: true, oneTrip: true },
        { groupCommit: true, prepared: false, oneTrip: true },
      ];
      for (const { groupCommit, prepared, oneTrip } of setups) {
        await measure(
          `${version!.v}, pool ${args.pool}, group commit ${groupCommit ? (oneTrip ? 'on (one trip)' : 'on (statement by statement)') : 'off'}, prepared ${prepared ? 'on' : 'off'}`,
          async () => {
            const store = await createMysqlStore({
              uri: uri.toString(),
              connectionLimit: Number(args.pool),
              preparedStatements: prepared,
              groupCommit,
              oneTripWrites: oneTrip,
            });
            await store.migrate();
            return store;
          },
          rows,
        );
        await admin.query(`DROP DATABASE \`${database}\``);
        await admin.query(`CREATE DATABASE \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
      }
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS \`${database}\``);
      await admin.end();
    }
  } else {
    throw new Error(`--dialect must be sqlite or mysql`);
  }
  console.log('| setup | workload | messages | msg/s | timeline rows/s | client CPU µs/msg |');
  console.log('|---|---|---:|---:|---:|---:|');
  for (const r of rows) {
    console.log(
      `| ${r.setup} | ${r.workload} | ${r.messages} | ${Math.round(r.messages / r.seconds).toLocaleString('en')} | ${Math.round(r.rows / r.seconds).toLocaleString('en')} | ${Math.round(r.cpuUs)} |`,
    );
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
