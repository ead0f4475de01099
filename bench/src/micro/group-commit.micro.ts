import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createSqliteStore, type Store } from '@mqim/store';

/**
 * CPU per message of the SQLite store's group commit alone, without sockets, bus or the other
 * roles: c2c messages between 200 users saved in bursts of random size (each burst is one
 * commit), after a warm-up. Deterministic input (a fixed LCG), so two checkouts compare by
 * alternating runs. CPU is the whole process's (main thread and the WAL checkpoint worker).
 *
 *   npx tsx bench/src/micro/group-commit.micro.ts [--max-burst 128] [--messages 40000] [--warmup 5000]
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'max-burst': { type: 'string', default: '128' },
      messages: { type: 'string', default: '40000' },
      warmup: { type: 'string', default: '5000' },
    },
  });
  const maxBurst = Number(values['max-burst']);
  const dir = mkdtempSync(join(tmpdir(), 'mqim-micro-'));
  const store = await createSqliteStore({ filename: join(dir, 'db.sqlite') });
  try {
    const saver = bursts(store, maxBurst);
    const warm = await measure(() => saver(Number(values.warmup)));
    const steady = await measure(() => saver(Number(values.messages)));
    console.log(
      JSON.stringify({ maxBurst, warmupCpuUsPerMsg: warm.cpuUsPerMsg, ...steady, messages: steady.messages }),
    );
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function bursts(store: Store, maxBurst: number): (count: number) => Promise<number> {
  const lastId = new Map<string, number>();
  const data = Buffer.alloc(64, 7);
  let seed = 42;
  const random = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  let sent = 0;
  return async (count) => {
    let done = 0;
    while (done < count) {
      const size = 1 + random(maxBurst);
      const saves: Promise<unknown>[] = [];
      for (let i = 0; i < size; i++) {
        const from = 1 + random(200);
        const to = ((from + random(199)) % 200) + 1;
        const key = `${Math.min(from, to)}:${Math.max(from, to)}`;
        const serverMsgId = (lastId.get(key) ?? 0) + 1;
        lastId.set(key, serverMsgId);
        sent++;
        saves.push(
          store.messages.save(
            {
              serverMsgId,
              clientMsgId: `c${sent}`,
              fromUserId: from,
              sessionType: 1,
              toSessionId: to,
              msgType: 1,
              msgData: data,
              createTime: 1_700_000_000,
            },
            [from, to],
          ),
        );
      }
      await Promise.all(saves);
      done += size;
    }
    return done;
  };
}

async function measure(
  run: () => Promise<number>,
): Promise<{ messages: number; cpuUsPerMsg: number; wallMs: number }> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  const messages = await run();
  const used = process.cpuUsage(cpu);
  return {
    messages,
    cpuUsPerMsg: Math.round((10 * (used.user + used.system)) / messages) / 10,
    wallMs: Math.round(performance.now() - start),
  };
}

void main();
