import type { MessageView, SimpleConsumer } from 'rocketmq-client-nodejs';
import { ackMany, RPC_OK } from './client.internals';

/** Most entries in one AckMessageRequest. */
const MAX_ENTRIES = 64;

interface PendingAck {
  view: MessageView;
  resolve(): void;
  reject(err: Error): void;
}

/**
 * Acks the messages one subscription finished in one AckMessage RPC (the protocol takes many
 * entries; the client library's `ack()` sends one). Each gRPC call costs the Node client about a
 * millisecond of CPU, and every consumed message needs an ack, so this is a large share of a
 * role's CPU under load. Clocked like BatchPublisher: with an ack RPC in flight, finished
 * messages wait for it and go together when it returns (but no sooner than `windowMs` after the
 * previous call began), so under load the number of ack calls stops growing with the message
 * rate; with none in flight they wait at most `windowMs`. Each `ack()` still settles on its own
 * entry's status.
 */
export class AckBatcher {
  private queue: PendingAck[] = [];
  private timer: NodeJS.Timeout | undefined;
  private inflight = 0;
  private lastFlushAt = 0;

  constructor(
    private readonly consumer: SimpleConsumer,
    private readonly topic: string,
    private readonly group: string,
    private readonly timeoutMs: number,
    private readonly windowMs = 1,
    /** Told of each AckMessage RPC with its number of entries. */
    private readonly onCall: (entries: number) => void = () => undefined,
  ) {}

  ack(view: MessageView): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ view, resolve, reject });
      if (this.inflight > 0) return; // sent when the call in flight returns
      if (this.queue.length >= MAX_ENTRIES) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.windowMs);
    });
  }

  /** Sends whatever waits now. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.lastFlushAt = performance.now();
    const items = this.queue;
    this.queue = [];
    // Messages name the endpoints they came from; one RPC per endpoint (one proxy here).
    const byEndpoints = new Map<string, PendingAck[]>();
    for (const item of items) {
      const key = String(item.view.endpoints);
      const list = byEndpoints.get(key);
      if (list) list.push(item);
      else byEndpoints.set(key, [item]);
    }
    for (const list of byEndpoints.values()) {
      for (let i = 0; i < list.length; i += MAX_ENTRIES) {
        this.inflight++;
        void this.send(list.slice(i, i + MAX_ENTRIES)).finally(() => {
          this.inflight--;
          if (this.inflight > 0 || this.queue.length === 0 || this.timer) return;
          // What finished during the call goes now, or once `windowMs` has passed since the last
          // call began: a long window paces the calls under load too, not only when idle.
          const rest = this.lastFlushAt + this.windowMs - performance.now();
          if (rest < 1) this.flush();
          else this.timer = setTimeout(() => this.flush(), rest);
        });
      }
    }
  }

  private async send(items: PendingAck[]): Promise<void> {
    this.onCall(items.length);
    try {
      const views = items.map((i) => i.view);
      const status = await ackMany(
        this.consumer,
        this.group,
        views[0]!.topic || this.topic,
        views,
        this.timeoutMs,
      );
      for (const item of items) {
        const s = status.get(item.view.messageId);
        if (s?.code === RPC_OK) item.resolve();
        else item.reject(new Error(`ack refused: ${s?.code ?? 0} ${s?.message ?? ''}`));
      }
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      for (const item of items) item.reject(e);
    }
  }
}
