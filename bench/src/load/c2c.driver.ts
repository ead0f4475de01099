import type { LoadConnection } from './load.connection';
import type { C2cCommand, C2cResult } from './worker.protocol';
import { sleep } from '../common/clock';

interface InFlight {
  sentAt: number;
  acked: boolean;
  delivered: number;
}

// Most sends a single timer tick may fire: when the event loop stalls, catch up in slices
// rather than block it for seconds (the backlog is still sent, just not in one burst).
const MAX_PER_TICK = 500;

/**
 * Paces one-to-one messages over a worker's senders (open loop: sends follow the clock, not the
 * replies) and matches acks and deliveries back to sends by client_msg_id. Sender and receiver
 * of a pair live in the same worker, so latencies use one monotonic clock.
 */
export class C2cDriver {
  private inFlight = new Map<string, InFlight>();
  // Messages finished (or given up on) in this worker: a later delivery is a duplicate or late.
  private finished = new Map<string, boolean>();
  private counter = 0;
  private current: C2cResult | null = null;
  private hasAcks = true;
  private lastEventAt = 0;
  totalSent = 0;
  totalAcked = 0;
  totalDelivered = 0;

  constructor(private readonly prefix: string) {}

  async run(cmd: C2cCommand, conns: LoadConnection[]): Promise<C2cResult> {
    const senders = conns.filter((c) => c.isOpen && c.user.peerId !== 0);
    if (senders.length === 0) throw new Error('no connected senders');
    for (const c of conns) c.receipts = cmd.receipts;
    this.hasAcks = senders[0]!.user.endpoint.kind !== 'relay-ws';
    const r: C2cResult = {
      sent: 0,
      acked: 0,
      refused: 0,
      delivered: 0,
      duplicates: 0,
      lost: 0,
      unacked: 0,
      late: 0,
      ackLatencyMs: [],
      deliveryLatencyMs: [],
      sendSpanMs: 0,
      totalSpanMs: 0,
      workerCpuMs: 0,
    };
    this.current = r;
    if (this.finished.size > 2_000_000) this.finished.clear();
    const payload = Buffer.alloc(cmd.payloadBytes, 'x');
    const cpu0 = process.cpuUsage();
    const start = performance.now();
    this.lastEventAt = start;
    let next = 0;

    await new Promise<void>((done) => {
      const tick = () => {
        const elapsed = performance.now() - start;
        const target = Math.floor((Math.min(elapsed, cmd.durationMs) * cmd.ratePerSec) / 1000);
        let due = Math.min(target - r.sent, MAX_PER_TICK);
        while (due-- > 0) {
          const conn = senders[next++ % senders.length]!;
          if (!conn.isOpen) continue;
          const id = `${this.prefix}${++this.counter}`;
          this.inFlight.set(id, { sentAt: performance.now(), acked: false, delivered: 0 });
          conn.sendChat(conn.user.peerId, 1, id, payload);
          r.sent++;
          this.totalSent++;
        }
        if (elapsed >= cmd.durationMs && r.sent >= target) {
          clearInterval(timer);
          done();
        }
      };
      const timer = setInterval(tick, 1);
    });
    r.sendSpanMs = performance.now() - start;

    const drainUntil = performance.now() + cmd.drainMs;
    while (this.inFlight.size > 0 && performance.now() < drainUntil) await sleep(10);
    r.totalSpanMs = Math.max(r.sendSpanMs, this.lastEventAt - start);

    for (const [id, m] of this.inFlight) {
      if (this.hasAcks && !m.acked) r.unacked++;
      else if (m.delivered === 0) r.lost++;
      this.finished.set(id, m.delivered > 0);
    }
    this.inFlight = new Map();
    const cpu = process.cpuUsage(cpu0);
    r.workerCpuMs = (cpu.user + cpu.system) / 1000;
    this.current = null;
    return r;
  }

  onAck(id: string, ok: boolean): void {
    const m = this.inFlight.get(id);
    const r = this.current;
    if (!m || !r || m.acked) return;
    const now = performance.now();
    this.lastEventAt = now;
    if (!ok) {
      r.refused++;
      this.inFlight.delete(id);
      this.finished.set(id, false);
      return;
    }
    m.acked = true;
    r.acked++;
    this.totalAcked++;
    r.ackLatencyMs.push(now - m.sentAt);
    if (m.delivered > 0) this.finish(id);
  }

  onDeliver(id: string): void {
    const r = this.current;
    const m = this.inFlight.get(id);
    if (!m) {
      const seen = this.finished.get(id);
      if (seen === true) {
        if (r) r.duplicates++;
      } else if (seen === false) {
        if (r) r.late++;
        this.finished.set(id, true);
      }
      return;
    }
    const now = performance.now();
    this.lastEventAt = now;
    m.delivered++;
    if (m.delivered > 1) {
      if (r) r.duplicates++;
      return;
    }
    if (r) {
      r.delivered++;
      r.deliveryLatencyMs.push(now - m.sentAt);
    }
    this.totalDelivered++;
    if (m.acked || !this.hasAcks) this.finish(id);
  }

  private finish(id: string): void {
    this.inFlight.delete(id);
    this.finished.set(id, true);
  }
}
