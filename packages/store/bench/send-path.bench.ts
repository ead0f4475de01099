// The store calls logic makes for every single-chat send: findSent (dedupe) then save(), as in
// apps/logic/src/send.handler.ts. Reports wall-clock msg/s and the process's CPU time per message
// (user + system), which is less disturbed by other work on a shared machine than latency is.
//
//   npx tsx packages/store/bench/send-path.bench.ts [--messages 60000] [--conversations 500] [--runs 3]
//
// SQLite in a temp dir (same disk as the checkout), default options (synchronous=NORMAL, group
// commit on). Each run uses a fresh database.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createSqliteStore } from '../src';

const { values: args } = parseArgs({
  options: {
    messages: { type: 'string', default: '60000' },
    conversations: { type: 'string', default: '500' },
    runs: { type: 'string', default: '3' },
  },
});

const payload = Buffer.from('{"text":"hello, this is a typical short chat message"}');

async function run(
  total: number,
  conversations: number,
): Promise<{ msgPerSec: number; cpuUsPerMsg: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'mqim-send-path-'));
  const store = await createSqliteStore({ filename: join(dir, 'bench.sqlite') });
  try {
    const perConversation = Math.ceil(total / conversations);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let sent = 0;
    await Promise.all(
      Array.from({ length: conversations }, async (_, c) => {
        const a = 2 * c + 1;
        const b = a + 1;
        for (let id = 1; id <= perConversation; id++) {
          const from = id % 2 === 0 ? b : a;
          const clientMsgId = `c${a}-${id}`;
          if ((await store.messages.findSent(from, clientMsgId)) !== null) throw new Error('unexpected dup');
          const result = await store.messages.save(
            {
              serverMsgId: id,
              clientMsgId,
              fromUserId: from,
              sessionType: 1,
              toSessionId: from === a ? b : a,
              msgType: 2,
              msgData: payload,
              attach: '',
              senderClientType: 1,
              msgStatus: 0,
              createTime: Math.floor(Date.now() / 1000),
            },
            [a, b],
          );
          if (result !== 'inserted') throw new Error(`unexpected ${result}`);
          sent++;
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    return { msgPerSec: sent / seconds, cpuUsPerMsg: (cpu.user + cpu.system) / sent };
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const total = Number(args.messages);
  const conversations = Number(args.conversations);
  // Warm-up (JIT, statement caches), not reported.
  await run(Math.min(total, 5000), conversations);
  for (let i = 0; i < Number(args.runs); i++) {
    const r = await run(total, conversations);
    console.log(`run ${i + 1}: ${Math.round(r.msgPerSec)} msg/s, ${r.cpuUsPerMsg.toFixed(1)} µs CPU/msg`);
  }
}

void main();
