import { epochMs, sleep } from '../common/clock';
import type { LoadConnection } from './load.connection';

/** Group messages of the fan-out scenario carry this client_msg_id prefix; others are ignored. */
export const FANOUT_PREFIX = 'fan-';

/**
 * Records when each member receives a fan-out message. The payload is the send time (epoch ms)
 * in ASCII, because sender and receivers live in different worker processes.
 */
export class FanoutRecorder {
  private readonly latencies = new Map<string, number[]>();
  private readonly acks = new Map<string, (ok: boolean) => void>();
  // Other group deliveries (creation and membership notifications): counted, to wait them out.
  private otherCount = 0;
  private otherLastAt = 0;

  onDeliver(id: string, payload: Uint8Array): void {
    if (!id.startsWith(FANOUT_PREFIX)) {
      this.otherCount++;
      this.otherLastAt = epochMs();
      return;
    }
    const sentAt = Number(
      Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('latin1'),
    );
    let list = this.latencies.get(id);
    if (!list) this.latencies.set(id, (list = []));
    list.push(epochMs() - sentAt);
  }

  /** True when the ack belonged to a fan-out send. */
  onAck(id: string, ok: boolean): boolean {
    const resolve = this.acks.get(id);
    if (!resolve) return false;
    this.acks.delete(id);
    resolve(ok);
    return true;
  }

  async send(
    conn: LoadConnection,
    groupId: number,
    id: string,
    timeoutMs: number,
  ): Promise<{ ackMs: number }> {
    const sentAt = epochMs();
    const acked = new Promise<boolean>((resolve) => this.acks.set(id, resolve));
    conn.sendChat(groupId, 2, id, Buffer.from(String(sentAt), 'latin1'));
    const ok = await Promise.race([acked, sleep(timeoutMs).then(() => null)]);
    if (ok === null) throw new Error(`fan-out send ${id} not acked within ${timeoutMs} ms`);
    if (!ok) throw new Error(`fan-out send ${id} refused`);
    return { ackMs: epochMs() - sentAt };
  }

  /**
   * Waits until no other group delivery arrived for `quietMs` (and at least `minCount` arrived),
   * at most `waitMs`; returns how many arrived and when the last one did (epoch ms, 0 = none).
   */
  async quiet(minCount: number, quietMs: number, waitMs: number): Promise<{ count: number; lastAt: number }> {
    const deadline = performance.now() + waitMs;
    const started = epochMs();
    while (performance.now() < deadline) {
      const last = Math.max(this.otherLastAt, started);
      if (this.otherCount >= minCount && epochMs() - last >= quietMs) break;
      await sleep(50);
    }
    return { count: this.otherCount, lastAt: this.otherLastAt };
  }

  async collect(id: string, expected: number, waitMs: number): Promise<number[]> {
    const deadline = performance.now() + waitMs;
    while ((this.latencies.get(id)?.length ?? 0) < expected && performance.now() < deadline) await sleep(20);
    const list = this.latencies.get(id) ?? [];
    this.latencies.delete(id);
    return list;
  }
}
