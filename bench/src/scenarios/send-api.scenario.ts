import { createImClient, type ImClient } from '@mqim/sdk';
import { log } from '../common/progress';
import { round, summarize } from '../common/stats';
import { BENCH_PASSWORD_MD5, registerUsers } from '../targets/users.provisioner';
import type { BenchContext, ScenarioOutcome } from './bench.context';

/** Users that receive (logged in over TCP, spread over the gates) and users the API sends as. */
const RECEIVERS = 50;
/** Most POSTs in flight at once: a business server's connection pool, not an unbounded burst. */
const MAX_IN_FLIGHT = 64;

/**
 * The send API under load (issue 13): a business server POSTs `/api/v1/messages` at a fixed rate
 * for the steady duration, each message from one of 50 users to another who is logged in. Counts
 * what the API accepted (201: stored), what it refused and why, the POST latency, and what reached
 * the recipients' connections and how long after the POST began (same clock: the receivers run
 * in this process). Opt-in: `--scenario send-api [--rate N]`.
 */
export async function runSendApi(ctx: BenchContext): Promise<ScenarioOutcome> {
  const notes: string[] = [];
  const cluster = ctx.args.target === 'cluster';
  const rate = ctx.args.rate ?? (cluster ? 200 : 500);
  const { durationMs, drainMs } = ctx.plan.steady;
  const target = await ctx.startMqim('send-api');
  const clients: ImClient[] = [];
  try {
    const users = await registerUsers(target.api, RECEIVERS * 2);
    const receivers = users.slice(0, RECEIVERS);
    const senders = users.slice(RECEIVERS);
    const sentAt = new Map<string, number>();
    const deliveryMs: number[] = [];
    let duplicates = 0;
    const seen = new Set<string>();
    for (const [i, u] of receivers.entries()) {
      const gate = target.gates[i % target.gates.length]!;
      const c = createImClient({
        url: `tcp://${gate.tcp.host}:${gate.tcp.port}`,
        reconnect: false,
        requestTimeoutMs: 30_000,
      });
      c.on('message', (m) => {
        const t0 = sentAt.get(m.clientMsgId);
        if (t0 === undefined) return;
        if (seen.has(m.clientMsgId)) duplicates++;
        else {
          seen.add(m.clientMsgId);
          deliveryMs.push(performance.now() - t0);
        }
      });
      await c.loginWithPassword(u.userName, BENCH_PASSWORD_MD5);
      clients.push(c);
    }
    log(`send-api: ${receivers.length} receivers logged in on ${target.gates.length} gate(s); ${rate} msg/s`);

    const postMs: number[] = [];
    const refused = new Map<string, number>();
    let accepted = 0;
    let inFlight = 0;
    let skipped = 0;
    const post = async (seq: number): Promise<void> => {
      const key = seq < 0 ? `bench-warm${-seq}` : `bench-${seq}`;
      const from = senders[Math.abs(seq) % senders.length]!.userId;
      const to = receivers[Math.abs(seq) % receivers.length]!.userId;
      const t0 = performance.now();
      sentAt.set(key, t0);
      inFlight++;
      try {
        const res = await fetch(`${target.api.url}/api/v1/messages`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${target.api.key}`,
            'content-type': 'application/json',
            'idempotency-key': key,
          },
          body: JSON.stringify({ from, sessionType: 1, to, text: `send-api ${seq}` }),
        });
        await res.arrayBuffer();
        if (res.status === 201) {
          accepted++;
          postMs.push(performance.now() - t0);
        } else {
          sentAt.delete(key);
          refused.set(String(res.status), (refused.get(String(res.status)) ?? 0) + 1);
        }
      } catch (err) {
        sentAt.delete(key);
        const what = (err as Error).message.split('\n')[0]!;
        refused.set(what, (refused.get(what) ?? 0) + 1);
      } finally {
        inFlight--;
      }
    };

    // Unrecorded warm-up: a fresh deployment's first requests seed counters and pools (a cluster's
    // consumers need seconds before messages flow at all), which is not the rate under test.
    for (let i = 0; i < 200; i += 16) {
      await Promise.all(Array.from({ length: 16 }, (_, k) => post(-1 - i - k)));
    }
    accepted = 0;
    postMs.length = 0;
    refused.clear();
    const warmKeys = new Set([...sentAt.keys()]);
    for (const k of warmKeys) seen.delete(k);
    sentAt.clear();
    deliveryMs.length = 0;
    duplicates = 0;

    const started = performance.now();
    const pending: Promise<void>[] = [];
    let seq = 0;
    while (performance.now() - started < durationMs) {
      const due = Math.floor(((performance.now() - started) / 1000) * rate);
      while (seq < due) {
        if (inFlight >= MAX_IN_FLIGHT) {
          skipped += due - seq; // the API is not keeping up: these sends were never offered
          seq = due;
          break;
        }
        pending.push(post(seq++));
      }
      await new Promise((r) => setTimeout(r, 2));
    }
    const offeredMs = performance.now() - started;
    await Promise.all(pending);
    const acceptedAt = performance.now();
    while (seen.size < accepted && performance.now() - acceptedAt < drainMs) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const lastDelivery = performance.now();
    if (skipped > 0)
      notes.push(`${skipped} sends not offered: ${MAX_IN_FLIGHT} POSTs were already in flight`);
    const figures = {
      rate,
      durationMs,
      target: ctx.args.target,
      receivers: RECEIVERS,
      maxInFlight: MAX_IN_FLIGHT,
      offered: seq - skipped,
      accepted,
      acceptedPerSec: round(accepted / (offeredMs / 1000), 0),
      refused: Object.fromEntries(refused),
      delivered: seen.size,
      deliveredPerSec: round(seen.size / ((lastDelivery - started) / 1000), 0),
      undelivered: accepted - seen.size,
      duplicates,
      postMs: summarize(postMs),
      deliveryMs: summarize(deliveryMs),
    };
    log(
      `  offered ${figures.offered}, accepted ${accepted} (${figures.acceptedPerSec}/s), delivered ${seen.size} ` +
        `(${figures.deliveredPerSec}/s), POST p50/p99 ${figures.postMs.p50}/${figures.postMs.p99} ms, ` +
        `delivery p50/p99 ${figures.deliveryMs.p50}/${figures.deliveryMs.p99} ms, refused ${JSON.stringify(figures.refused)}`,
    );
    return { figures, notes };
  } finally {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await target.stop();
  }
}
