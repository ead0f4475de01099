import { LanePublisher, type MessageBus, type Subscription } from '@mqim/bus';
import type { Logger } from '@mqim/config';
import type { MqimMetrics } from '@mqim/metrics';
import { CIM, CommandId, UPSTREAM_BATCH_TAG, encodeUpstreamBatch, mqim, type MqNames } from '@mqim/protocol';

export interface UpstreamClientOptions {
  /**
   * The name this api process answers under: logic and job reply to it on `im-gate-<id>` exactly
   * as they reply to a gate. Unique per api process.
   */
  endpointId: string;
  /** Must equal the gates' `MQIM_LANES`: a conversation's requests share one lane whoever sent them. */
  lanes: number;
  /** How long a request waits for logic's answer. @default 10000 */
  timeoutMs?: number;
  /** Upstream publishes in flight. @default 4 */
  maxInFlight?: number;
  /** Pacing of each in-flight slot, as on a gate. @default 0 */
  minIntervalMs?: number;
}

/** What logic answered a request: its response frames, in the order they came. */
export interface UpstreamAnswer {
  cmd: number;
  body: Uint8Array;
}

/** Logic refused the request (it answered with MqimErrorNotify). */
export class UpstreamRefusedError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'UpstreamRefusedError';
  }
}

/** No answer in time. The request may still take effect: retrying with the same key is safe. */
export class UpstreamTimeoutError extends Error {
  readonly code = 'IM_ERR_TIMEOUT';
  constructor(ms: number) {
    super(`logic did not answer within ${ms} ms; retry with the same idempotency key`);
    this.name = 'UpstreamTimeoutError';
  }
}

interface Pending {
  done(answer: UpstreamAnswer): void;
  fail(err: Error): void;
  /** Whether `cmd` ends the exchange (a refused send's ack is followed by the error notice). */
  final(cmd: number, body: Uint8Array): boolean;
  timer: NodeJS.Timeout;
}

/**
 * The api's way onto the message path: it publishes requests to `im-upstream` like a gate does
 * (same lanes, same envelope, the business server's chosen user as the session), and takes the
 * answers from a gate-shaped topic of its own. So a message sent over HTTP is checked, stored,
 * ordered, delivered, synced and tapped by the same logic and job code as one sent by a client;
 * there is no second path to keep in step.
 *
 * Each request gets a connection id of its own; no route is ever registered for it, so deliveries
 * never come here, only answers.
 */
export class UpstreamClient {
  private readonly lanes: LanePublisher;
  private readonly pending = new Map<string, Pending>();
  private subscription?: Subscription;
  private counter = 0;
  private readonly timeoutMs: number;

  constructor(
    private readonly bus: MessageBus,
    private readonly names: MqNames,
    metrics: MqimMetrics,
    private readonly logger: Logger,
    private readonly options: UpstreamClientOptions,
  ) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.lanes = new LanePublisher(bus, metrics, {
      topic: names.upstream,
      tag: UPSTREAM_BATCH_TAG,
      encode: encodeUpstreamBatch,
      lanes: options.lanes,
      maxInFlight: options.maxInFlight ?? 4,
      minIntervalMs: options.minIntervalMs ?? 0,
    });
  }

  get endpointId(): string {
    return this.options.endpointId;
  }

  async start(): Promise<void> {
    const id = this.options.endpointId;
    // Provisioned like a new gate's topic: scaling out the api needs no manual step either.
    await this.bus.ensureTopics([this.names.gateTopic(id)]);
    await this.bus.ensureGroups([this.names.gateGroupSpec(id)]);
    this.subscription = await this.bus.subscribeBatch(
      { topic: this.names.gate(id), group: this.names.gateGroup(id), concurrency: 8, maxBatch: 32 },
      async (messages) => {
        for (const m of messages) this.onAnswers(m.body);
      },
    );
  }

  async stop(): Promise<void> {
    await this.lanes.flushAll();
    await this.subscription?.close();
    for (const [connId, p] of this.pending) {
      clearTimeout(p.timer);
      p.fail(new UpstreamTimeoutError(0));
      this.pending.delete(connId);
    }
  }

  /**
   * A chat message (0x0301) sent as `userId`; resolves with logic's ack (0x0302, result OK) once
   * the message is stored, rejects `UpstreamRefusedError` with logic's reason. `apiSender`: the
   * business server's own send (it may carry msg_type 9); false for what a client asked for (a
   * client's scheduled message), which logic then checks as a client's.
   */
  sendMessage(
    userId: number,
    msg: CIM.Message.ICIMMsgData,
    orderKey: string,
    systemSender: boolean,
    apiSender: boolean,
  ): Promise<CIM.Message.CIMMsgDataAck> {
    return this.request(
      {
        userId,
        cmd: CommandId.MSG_DATA,
        body: CIM.Message.CIMMsgData.encode(msg).finish(),
        orderKey,
        systemSender,
        apiSender,
      },
      (cmd, body) =>
        cmd === CommandId.MSG_DATA_ACK &&
        CIM.Message.CIMMsgDataAck.decode(body).resCode === CIM.Def.CIMResCode.RES_CODE_OK,
    ).then((a) => CIM.Message.CIMMsgDataAck.decode(a.body));
  }

  /**
   * One request to logic as `userId`. `final` says which answer ends it; an error notice always
   * does (as a rejection). `apiSender`: sent as the business server's (see `sendMessage`).
   */
  request(
    req: {
      userId: number;
      cmd: number;
      body: Uint8Array;
      orderKey: string;
      systemSender?: boolean;
      apiSender: boolean;
    },
    final: (cmd: number, body: Uint8Array) => boolean,
  ): Promise<UpstreamAnswer> {
    const connId = `r${(++this.counter).toString(36)}`;
    return new Promise<UpstreamAnswer>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(connId);
        reject(new UpstreamTimeoutError(this.timeoutMs));
      }, this.timeoutMs);
      timer.unref();
      this.pending.set(connId, { done: resolve, fail: reject, final, timer });
      const envelope = mqim.v1.UpstreamRequest.encode({
        gateId: this.options.endpointId,
        connId,
        userId: req.userId,
        clientType: 0,
        cmd: req.cmd,
        seq: 1,
        body: req.body,
        receivedAtMs: Date.now(),
        orderKey: req.orderKey,
        systemSender: req.systemSender === true,
        apiSender: req.apiSender,
      }).finish();
      this.lanes.publish(envelope, req.orderKey).catch((err: Error) => {
        const p = this.pending.get(connId);
        if (!p) return;
        clearTimeout(p.timer);
        this.pending.delete(connId);
        reject(err);
      });
    });
  }

  private onAnswers(body: Uint8Array): void {
    let batch: mqim.v1.GateBatch;
    try {
      batch = mqim.v1.GateBatch.decode(body);
    } catch (err) {
      this.logger.error({ err: (err as Error).message }, 'undecodable answer batch dropped');
      return;
    }
    for (const c of batch.commands) {
      const connId = c.connId ?? '';
      const cmd = c.cmd ?? 0;
      const body = c.body ?? new Uint8Array();
      const p = this.pending.get(connId);
      // Late answers of timed-out requests (and of a previous process under the same id) land here.
      if (!p) continue;
      if (cmd === CommandId.ERROR_NOTIFY) {
        const notice = CIM.Ext.MqimErrorNotify.decode(body);
        this.settle(connId, p);
        p.fail(new UpstreamRefusedError(notice.errorName || 'IM_ERR_UNKNOWN', notice.text));
      } else if (p.final(cmd, body)) {
        this.settle(connId, p);
        p.done({ cmd, body });
      }
    }
  }

  private settle(connId: string, p: Pending): void {
    clearTimeout(p.timer);
    this.pending.delete(connId);
  }
}
