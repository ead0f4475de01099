import type { mqim } from '@mqim/protocol';
import { CommandId, CIM, longToNumber, toErrorNotify } from '@mqim/protocol';
import type { GatePublisher } from '@mqim/delivery';

/** A deferred effect's outcome: never rejects (it is awaited later, maybe never if an earlier one failed). */
type Settled = { ok: true } | { ok: false; err: unknown };

/** One upstream request being handled: who asked, where to answer. */
export class RequestContext {
  private readonly deferred: Promise<Settled>[] = [];
  private readonly failed: unknown[] = [];

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

  /**
   * An effect the handler started but does not wait for (a send's intent and tap publishes), so
   * the conversation's next request can start while it is on its way. The upstream message is
   * still acked only after it succeeded (`effects`); the publishers keep the order in which
   * effects were started.
   */
  after(...effects: Promise<unknown>[]): void {
    for (const effect of effects) {
      this.deferred.push(
        effect.then(
          (): Settled => ({ ok: true }),
          (err: unknown): Settled => {
            this.failed.push(err);
            return { ok: false, err };
          },
        ),
      );
    }
  }

  /** Resolves once every deferred effect succeeded; rejects with the first failure. */
  async effects(): Promise<void> {
    for (const settled of await Promise.all(this.deferred)) if (!settled.ok) throw settled.err;
  }

  /** Every failure of a deferred effect so far (a publisher may have held streams for each). */
  get failures(): readonly unknown[] {
    return this.failed;
  }

  /** A response to the requesting connection, echoing its seq. */
  reply(cmd: number, body: Uint8Array): Promise<void> {
    if (this.gateId === '') return Promise.resolve(); // a request of the server's own: nobody to answer
    return this.replier.send(this.gateId, [{ connId: this.connId, cmd, seq: this.seq, body }]);
  }

  /** A refusal the client can read: MqimErrorNotify naming the request it refuses. */
  replyError(err: unknown): Promise<void> {
    if (this.gateId === '') return Promise.resolve();
    const body = CIM.Ext.MqimErrorNotify.encode(
      toErrorNotify(err, { cmd: this.req.cmd, seq: this.req.seq }),
    ).finish();
    return this.replier.send(this.gateId, [
      { connId: this.connId, cmd: CommandId.ERROR_NOTIFY, seq: 0, body },
    ]);
  }
}
