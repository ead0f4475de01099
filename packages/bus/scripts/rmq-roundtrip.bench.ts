/**
 * Bare produce → consume through RocketMqBus (rocketmq-client-nodejs → gRPC proxy → broker), no
 * mqim logic: what one MQ hop costs. Needs `infra/rocketmq/rocketmq.sh start`.
 *
 *   npx tsx packages/bus/scripts/rmq-roundtrip.bench.ts [--light N] [--seq N] [--conc N] [--parallel P]
 *
 * Prints JSON: round-trip latency at a light load (one message every 5 ms), sequential publish
 * rate, concurrent publish rate, and the end-to-end rate of the concurrent run (last consumed).
 */
import { randomBytes } from 'node:crypto';
import { createLogger } from '@mqim/config';
import { RocketMqBus } from '../src';

const args = new Map<string, number>();
for (let i = 2; i < process.argv.length; i += 2)
  args.set(process.argv[i]!.replace(/^--/, ''), Number(process.argv[i + 1]));
const LIGHT = args.get('light') ?? 1000;
const SEQ = args.get('seq') ?? 2000;
const CONC = args.get('conc') ?? 20000;
const PARALLEL = args.get('parallel') ?? 64;
const BODY = 256;

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function stats(values: number[]) {
  const s = [...values].sort((a, b) => a - b);
  const round = (x: number) => Math.round(x * 100) / 100;
  return {
    n: s.length,
    p50: round(pct(s, 50)),
    p90: round(pct(s, 90)),
    p99: round(pct(s, 99)),
    max: round(s[s.length - 1]!),
  };
}

async function main(): Promise<void> {
  const bus = new RocketMqBus({
    endpoints: process.env.MQIM_TEST_RMQ_ENDPOINTS ?? '127.0.0.1:8081',
    namesrv: process.env.MQIM_TEST_RMQ_NAMESRV ?? '127.0.0.1:9876',
    logger: createLogger('bench', 'warn'),
  });
  const run = randomBytes(4).toString('hex');
  const topic = `bench_rt_${run}`;
  const group = `bench_rt_g_${run}`;
  await bus.ensureTopics([{ name: topic, kind: 'normal', queues: 8 }]);
  await bus.ensureGroups([{ name: group, orderly: false }]);

  const latencies: number[] = [];
  let consumed = 0;
  let lastConsumedAt = 0;
  await bus.subscribe({ topic, group, concurrency: 256 }, async (m) => {
    const sentAt = Buffer.from(m.body.buffer, m.body.byteOffset, m.body.byteLength).readDoubleBE(0);
    latencies.push(performance.now() - sentAt);
    consumed++;
    lastConsumedAt = performance.now();
  });
  const body = () => {
    const b = Buffer.alloc(BODY);
    b.writeDoubleBE(performance.now(), 0);
    return b;
  };
  const waitConsumed = async (n: number, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while (consumed < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    if (consumed < n) throw new Error(`only ${consumed} of ${n} consumed`);
  };

  // Warm-up: routes, connections, JIT.
  for (let i = 0; i < 200; i++) await bus.publish({ topic, body: body() });
  await waitConsumed(200, 30_000);

  // 1. Light load: one message every 5 ms, round-trip latency.
  latencies.length = 0;
  consumed = 0;
  for (let i = 0; i < LIGHT; i++) {
    void bus.publish({ topic, body: body() });
    await new Promise((r) => setTimeout(r, 5));
  }
  await waitConsumed(LIGHT, 30_000);
  const light = stats(latencies);

  // 2. Sequential publish: await each send.
  consumed = 0;
  const sendLat: number[] = [];
  let t0 = performance.now();
  for (let i = 0; i < SEQ; i++) {
    const s = performance.now();
    await bus.publish({ topic, body: body() });
    sendLat.push(performance.now() - s);
  }
  const seqRate = SEQ / ((performance.now() - t0) / 1000);
  await waitConsumed(SEQ, 60_000);

  // 3. Concurrent publish: PARALLEL sends in flight.
  consumed = 0;
  latencies.length = 0;
  let next = 0;
  t0 = performance.now();
  await Promise.all(
    Array.from({ length: PARALLEL }, async () => {
      while (next < CONC) {
        next++;
        await bus.publish({ topic, body: body() });
      }
    }),
  );
  const publishedAt = performance.now();
  await waitConsumed(CONC, 120_000);
  const concRate = CONC / ((publishedAt - t0) / 1000);
  const e2eRate = CONC / ((lastConsumedAt - t0) / 1000);

  await bus.close();
  console.log(
    JSON.stringify(
      {
        bodyBytes: BODY,
        lightLoad: { ratePerSec: 200, roundTripMs: light },
        sequentialPublish: { n: SEQ, msgPerSec: Math.round(seqRate), sendMs: stats(sendLat) },
        concurrentPublish: {
          n: CONC,
          inFlight: PARALLEL,
          publishMsgPerSec: Math.round(concRate),
          endToEndMsgPerSec: Math.round(e2eRate),
          roundTripMs: stats(latencies),
        },
      },
      null,
      2,
    ),
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
