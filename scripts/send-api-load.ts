/**
 * Send-API throughput: `--concurrency` HTTP clients post `POST /api/v1/messages` (text, sender to
 * recipient, a fresh Idempotency-Key each) for `--seconds`; every recipient is logged in over TCP
 * in this process, so each accepted message is also counted when it is delivered. Prints messages/s
 * accepted (201), refused (anything else), delivered, and p50 / p99 / max of the HTTP answer time.
 *
 *   MQIM_API_KEY=k npm start                               # or a cluster (scripts/cluster-up)
 *   MQIM_API_KEY=k node --import tsx scripts/send-api-load.ts [--seconds 10] [--concurrency 32] [--pairs 20]
 *
 * Environment: MQIM_API_KEY; MQIM_SEND_LOAD_API (default http://127.0.0.1:18080) and
 * MQIM_SEND_LOAD_GATE (default tcp://127.0.0.1:8000).
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { createImClient, type ImClient } from '@mqim/sdk';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '32' },
    pairs: { type: 'string', default: '20' },
  },
});
const seconds = Number(values.seconds);
const concurrency = Number(values.concurrency);
const pairs = Number(values.pairs);
const apiUrl = process.env.MQIM_SEND_LOAD_API ?? 'http://127.0.0.1:18080';
const gateUrl = process.env.MQIM_SEND_LOAD_GATE ?? 'tcp://127.0.0.1:8000';
const key = process.env.MQIM_API_KEY;
if (!key) throw new Error('MQIM_API_KEY is not set');

async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${apiUrl}/api/v1${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : NaN;
}

async function main(): Promise<void> {
  const run = randomBytes(3).toString('hex');
  const senders: number[] = [];
  const recipients: number[] = [];
  const clients: ImClient[] = [];
  let delivered = 0;
  let lastDeliveryAt = 0;
  for (let i = 0; i < pairs; i++) {
    const s = await post('/users', { userName: `load-${run}-s${i}`, password: 'secret' });
    const r = await post('/users', { userName: `load-${run}-r${i}`, password: 'secret' });
    senders.push(s.body.userId as number);
    recipients.push(r.body.userId as number);
    const c = createImClient({ url: gateUrl, requestTimeoutMs: 30_000, reconnect: false });
    c.on('message', (m) => {
      if (m.text?.startsWith('load ')) {
        delivered++;
        lastDeliveryAt = performance.now();
      }
    });
    await c.loginWithPassword(`load-${run}-r${i}`, 'secret');
    clients.push(c);
  }

  const latencies: number[] = [];
  let accepted = 0;
  let refused = 0;
  const codes = new Map<string, number>();
  const started = performance.now();
  const deadline = started + seconds * 1000;
  let n = 0;
  const worker = async () => {
    while (performance.now() < deadline) {
      const i = n++ % pairs;
      const t0 = performance.now();
      const res = await post(
        '/messages',
        { from: senders[i], sessionType: 1, to: recipients[i], text: `load ${n}` },
        { 'idempotency-key': `${run}-${n}` },
      );
      latencies.push(performance.now() - t0);
      if (res.status === 201) accepted++;
      else {
        refused++;
        const code = String((res.body.error as { code?: string } | undefined)?.code ?? res.status);
        codes.set(code, (codes.get(code) ?? 0) + 1);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const sendMs = performance.now() - started;
  const drainUntil = performance.now() + 15_000;
  while (delivered < accepted && performance.now() < drainUntil) await new Promise((r) => setTimeout(r, 50));
  const deliverMs = (lastDeliveryAt || performance.now()) - started;
  latencies.sort((a, b) => a - b);
  const fmt = (v: number) => v.toFixed(1);
  console.log(
    JSON.stringify({
      seconds,
      concurrency,
      pairs,
      accepted,
      refused,
      refusedCodes: Object.fromEntries(codes),
      delivered,
      acceptedPerSec: Math.round(accepted / (sendMs / 1000)),
      deliveredPerSec: Math.round(delivered / (deliverMs / 1000)),
      answerMs: {
        p50: fmt(percentile(latencies, 50)),
        p99: fmt(percentile(latencies, 99)),
        max: fmt(latencies.at(-1) ?? NaN),
      },
    }),
  );
  await Promise.all(clients.map((c) => c.close()));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
