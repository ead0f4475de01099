import type { mqim } from '@mqim/protocol';
import { CommandId, CIM, longToNumber, toErrorNotify } from '@mqim/protocol';
import type { GatePublisher } from '@mqim/bus';

/** One upstream request being handled: who asked, where to answer. */
export class RequestContext {
  constructor(
    readonly req: mqim.v1.UpstreamRequest,
    readonly userId: number,
    private readonly replier: GatePublisher,
    /** How often the broker has handed this request out (1: the first time). @default 1 */
    readonly attempt = 1,
  ) {}

  get gateId(): string {
    return this.req.gateId;
  }
  get connId(): string {
    return this.req.connId;
  }
  get seq(): number {
    return this.req.seq;
  }
  get receivedAtMs(): number {
    return longToNumber(this.req.receivedAtMs);
  }

  /**
   * The key of this request as the gate sent it: the same on every redelivery, different for any
   * other request (a connection's seq, stamped with when the gate read it). Handlers key their
   * durable effects with it so a retry finds what an earlier attempt did (docs/adr, idempotency).
   */
  get requestKey(): string {
    return `n-${this.gateId}-${this.connId}-${this.seq}-${this.receivedAtMs}`.slice(0, 64);
  }

  /** A response to the requesting connection, echoing its seq. */
  reply(cmd: number, body: Uint8Array): Promise<void> {
    return this.replier.send(this.gateId, [{ connId: this.connId, cmd, seq: this.seq, body }]);
  }

  /** A refusal the client can read: MqimErrorNotify naming the request it refuses. */
  replyError(err: unknown): Promise<void> {
    const body = CIM.Ext.MqimErrorNotify.encode(
      toErrorNotify(err, { cmd: this.req.cmd, seq: this.req.seq }),
    ).finish();
    return this.replier.send(this.gateId, [
      { connId: this.connId, cmd: CommandId.ERROR_NOTIFY, seq: 0, body },
    ]);
  }
}
