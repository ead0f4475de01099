/**
 * Light-load one-to-one latency on a running cluster: a sender on gate 1 (TCP) sends to a
 * receiver on gate 2 (WebSocket) at a fixed rate; both clients live in this process, so
 * send → delivery is measured on one clock. Prints p50 / p90 / p99 / max of send → ack (stored,
 * 0x0302) and of send → delivery (pushed 0x0301 on the other gate), and how many never arrived.
 *
 *   scripts/cluster-up
 *   set -a; . .infra/cluster/cluster.env; set +a
 *   node --import tsx scripts/cluster-latency.ts [--rate 20] [--seconds 30] [--pairs 1]
 *
 * Environment (cluster.env sets them): MQIM_CLUSTER_API_URL, MQIM_API_KEY,
 * MQIM_CLUSTER_GATE_1_TCP_URL, MQIM_CLUSTER_GATE_2_WS_URL.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { createImClient, type ImClient } from '@mqim/sdk';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '20' },
    seconds: { type: 'string', default: '30' },
    pairs: { type: 'string', default: '1' },
  },
});
const rate = Number(values.rate);
const seconds = Number(values.seconds);
const pairs = Number(values.pairs);
if (!Number.isInteger(pairs) || pairs < 1)
  throw new Error(`--pairs must be a whole number >= 1, got ${values.pairs}`);

function env(name: string, fallback?: string): string {
  const value = process.env[name] ?? fallback;
  if (!value) throw new Error(`${name} is not set (source .infra/cluster/cluster.env)`);
  return value;
}

async function createUser(userName: string): Promise<number> {
  const res = await fetch(`${env('MQIM_CLUSTER_API_URL', 'http://127.0.0.1:18080')}/api/v1/users`, {
    method: 'POST',
    headers: { authorization: `Bearer ${env('MQIM_API_KEY')}`, 'content-type': 'application/json' },
    body: JSON.stringify({ userName, password: 'secret' }),
  });
  if (res.status !== 201) throw new Error(`creating ${userName}: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { userId: number }).userId;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function summary(label: string, samples: number[]): string {
  const s = [...samples].sort((a, b) => a - b);
  const f = (v: number) => v.toFixed(1).padStart(7);
  return `${label.padEnd(18)} n=${String(s.length).padStart(5)}  p50 ${f(percentile(s, 50))} ms  p90 ${f(percentile(s, 90))} ms  p99 ${f(percentile(s, 99))} ms  max ${f(s.at(-1) ?? NaN)} ms`;
}

async function main(): Promise<void> {
  const run = randomBytes(4).toString('hex');
  const sentAt = new Map<string, number>();
  const ackMs: number[] = [];
  const deliveryMs: number[] = [];
  const links: { sender: ImClient; receiver: ImClient; receiverId: number }[] = [];
  for (let p = 0; p < pairs; p++) {
    const [, receiverId] = [await createUser(`lat_s_${run}_${p}`), await createUser(`lat_r_${run}_${p}`)];
    const sender: ImClient = createImClient({
      url: env('MQIM_CLUSTER_GATE_1_TCP_URL', 'tcp://127.0.0.1:8000'),
    });
    const receiver: ImClient = createImClient({
      url: env('MQIM_CLUSTER_GATE_2_WS_URL', 'ws://127.0.0.1:8011/ws'),
    });
    await sender.loginWithPassword(`lat_s_${run}_${p}`, 'secret');
    await receiver.loginWithPassword(`lat_r_${run}_${p}`, 'secret');
    receiver.on('message', (m) => {
      const t0 = sentAt.get(m.clientMsgId);
      if (t0 !== undefined) deliveryMs.push(performance.now() - t0);
    });
    links.push({ sender, receiver, receiverId });
  }

  const total = Math.round(rate * seconds);
  const interval = 1000 / rate;
  const sends: Promise<void>[] = [];
  const failures: string[] = [];
  const begin = performance.now();
  console.log(
    `sending ${total} messages at ${rate}/s (${seconds} s) over ${pairs} pair(s): gate 1 TCP -> gate 2 WS`,
  );
  for (let i = 0; i < total; i++) {
    // Paced against the start time, so a slow tick does not shift every later send.
    const wait = begin + i * interval - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const clientMsgId = `${run}-${i}`;
    const t0 = performance.now();
    sentAt.set(clientMsgId, t0);
    const { sender, receiverId } = links[i % pairs]!;
    sends.push(
      sender.send({ to: receiverId, text: `latency probe ${i}`, clientMsgId }).then(
        () => void ackMs.push(performance.now() - t0),
        (err: Error) => void failures.push(`send ${i}: ${err.message}`),
      ),
    );
  }
  await Promise.all(sends);
  // Pushes trail the acks by a hop; give stragglers a moment.
  const settle = performance.now() + 5000;
  while (deliveryMs.length < total && performance.now() < settle) await new Promise((r) => setTimeout(r, 50));

  console.log(summary('send -> ack', ackMs));
  console.log(summary('send -> delivery', deliveryMs));
  console.log(`not delivered within 5 s after the last ack: ${total - deliveryMs.length}`);
  if (failures.length > 0)
    console.log(`sends failed: ${failures.length}, first: ${failures.slice(0, 3).join('; ')}`);
  await Promise.all(links.flatMap((l) => [l.sender.close(), l.receiver.close()]));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
