import { randomUUID } from 'node:crypto';
import type { MessageBus } from '@mqim/bus';
import type { Cache } from '@mqim/cache';
import type { Logger } from '@mqim/config';
import {
  CIM,
  CommandId,
  INTENT_BATCH_TAG,
  SessionType,
  encodeIntentBatch,
  mqim,
  type MqNames,
} from '@mqim/protocol';
import type { Store } from '@mqim/store';

export type BroadcastAudience = 'all' | 'online';

export interface BroadcastRequest {
  from: number;
  fromNickName: string;
  audience: BroadcastAudience;
  msgType: number;
  msgData: Uint8Array;
  /** Text for offline pushes (audience `all`). */
  preview: string;
}

export interface BroadcastStatus {
  broadcastId: string;
  audience: BroadcastAudience;
  state: 'queued' | 'running' | 'done' | 'failed';
  /** Recipients handed to the job so far (the sender excluded). */
  recipients: number;
  /** Pages published (one `im-deliver` message each). */
  pages: number;
  createdAt: number;
  finishedAt?: number;
  error?: string;
}

export interface BroadcasterOptions {
  /** Recipients per page: one delivery intent, one `im-deliver` message. @default 1000 */
  pageSize: number;
  /** Recipients handed to the job per second at most (pages are paced to it). @default 5000 */
  perSecond: number;
  /** Broadcasts waiting to run before new ones are refused (429). @default 16 */
  maxQueued: number;
}

export class BroadcastQueueFullError extends Error {
  readonly code = 'IM_ERR_USER_RATE_LIMITED';
}

/**
 * Broadcasts of the api process (`POST /api/v1/broadcasts`, ADR 0016): a notification to every
 * user or to every online user, without storing it. Recipients are read page by page (users from
 * the store by id, online users from the route table), each page becomes ONE delivery intent to
 * the job — which looks up the page's routes once and writes one fan-out command per gate, the
 * body once per gate — never one publish per user. Pages are paced to `perSecond` recipients;
 * broadcasts run one at a time, in order. With audience `all`, recipients without a connection
 * get an offline push (the intent's push check), connected ones see it in the app.
 */
export class Broadcaster {
  private readonly status = new Map<string, BroadcastStatus>();
  private readonly queue: Array<{ req: BroadcastRequest; st: BroadcastStatus }> = [];
  private running = false;
  private stopped = false;
  private wake?: () => void;

  constructor(
    private readonly deps: { bus: MessageBus; store: Store; cache: Cache; names: MqNames; logger: Logger },
    private readonly options: BroadcasterOptions,
  ) {}

  /** Queues a broadcast; its status is `get(broadcastId)` on this api process. */
  submit(req: BroadcastRequest): BroadcastStatus {
    const queued = this.queue.length;
    if (queued >= this.options.maxQueued)
      throw new BroadcastQueueFullError(`${queued} broadcasts are waiting; retry later`);
    const st: BroadcastStatus = {
      broadcastId: randomUUID(),
      audience: req.audience,
      state: 'queued',
      recipients: 0,
      pages: 0,
      createdAt: Date.now(),
    };
    this.status.set(st.broadcastId, st);
    // Finished broadcasts are forgotten oldest first beyond 1,000.
    if (this.status.size > 1000) {
      for (const [id, s] of this.status) {
        if (this.status.size <= 1000) break;
        if (s.state === 'done' || s.state === 'failed') this.status.delete(id);
      }
    }
    this.queue.push({ req, st });
    void this.drain();
    return { ...st };
  }

  get(broadcastId: string): BroadcastStatus | undefined {
    const st = this.status.get(broadcastId);
    return st && { ...st };
  }

  /** Stops between pages; a running broadcast ends `failed` ("stopped"). */
  stop(): void {
    this.stopped = true;
    this.wake?.();
  }

  private async drain(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (let next = this.queue.shift(); next; next = this.queue.shift()) {
        const { req, st } = next;
        st.state = 'running';
        try {
          await this.run(req, st);
          st.state = 'done';
        } catch (err) {
          st.state = 'failed';
          st.error = (err as Error).message;
          this.deps.logger.warn({ broadcastId: st.broadcastId, err: st.error }, 'broadcast failed');
        }
        st.finishedAt = Date.now();
      }
    } finally {
      this.running = false;
    }
  }

  private async run(req: BroadcastRequest, st: BroadcastStatus): Promise<void> {
    const { pageSize, perSecond } = this.options;
    const createTime = Math.floor(Date.now() / 1000);
    const body = CIM.Message.CIMMsgData.encode({
      fromUserId: req.from,
      fromNickName: req.fromNickName,
      // One body for every recipient: no per-user peer, no stored id (not in any history).
      toSessionId: 0,
      clientMsgId: `bc-${st.broadcastId}`,
      serverMsgId: 0,
      createTime,
      msgType: req.msgType,
      sessionType: SessionType.SINGLE,
      msgData: req.msgData,
    }).finish();
    let after = 0;
    for (;;) {
      if (this.stopped) throw new Error('stopped');
      const started = Date.now();
      const ids =
        req.audience === 'online'
          ? (await this.deps.cache.routes.online(after, pageSize)).userIds
          : (await this.deps.store.users.list({ afterId: after, limit: pageSize })).map((u) => u.userId);
      if (ids.length === 0) return;
      after = ids[ids.length - 1]!;
      // ADR 0014: a user who blocks the sender gets nothing from them (one query per page).
      const blockers = new Set(await this.deps.store.contacts.blockersAmong(req.from, ids));
      const userIds = ids.filter((id) => id !== req.from && !blockers.has(id));
      if (userIds.length > 0) {
        const intent: mqim.v1.IDeliveryIntent = {
          userIds,
          cmd: CommandId.MSG_DATA,
          body,
          originAtMs: Date.now(),
          orderKey: `bc:${st.broadcastId}`,
          push:
            req.audience === 'all'
              ? {
                  sessionType: SessionType.SINGLE,
                  sessionId: req.from,
                  serverMsgId: 0,
                  fromUserId: req.from,
                  fromNickName: req.fromNickName,
                  msgType: req.msgType,
                  preview: req.preview.slice(0, 80),
                }
              : undefined,
        };
        await this.deps.bus.publish({
          topic: this.deps.names.deliver,
          body: encodeIntentBatch([mqim.v1.DeliveryIntent.encode(intent).finish()]),
          tag: INTENT_BATCH_TAG,
          messageGroup: `bc-${st.broadcastId}`,
          keys: [`bc-${st.broadcastId}`],
        });
        st.pages++;
        st.recipients += userIds.length;
      }
      if (ids.length < pageSize) return;
      // Paced: this page's recipients at `perSecond`.
      const due = started + (ids.length * 1000) / perSecond - Date.now();
      if (due > 0 && !this.stopped)
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, due);
          t.unref();
          this.wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
    }
  }
}
