import {
  CommandId,
  decodeClientBody,
  encodeClientFrame,
  type BodyInput,
  type BodyOf,
} from '@mqim/protocol/client';
import { ImClientError, type ServerErrorDetail } from './im.errors';
import { RequestTracker } from './request.tracker';
import type { ClientFrame, Transport, TransportOpener, TransportOptions } from './transport/transport';

export interface ConnectionHandlers {
  /** Frames that answer no request: deliveries, notifies, heartbeat replies, late answers. */
  frame(frame: ClientFrame): void;
  /** Once, when the connection is gone; every request in flight has been rejected by then. */
  closed(reason: string, error: Error | undefined): void;
}

export interface RequestSpec<B> {
  timeoutMs: number;
  /** The rejection for a server refusal (error notify) of this request. */
  refuse: (detail: ServerErrorDetail) => Error;
  /**
   * True for a negative response that the server explains with an error notify of its own, which
   * may follow right behind it: the wait for it starts before the next frame is read.
   */
  isRefusal?: (body: B) => boolean;
  /** How long to wait for that explanation. @default 0 */
  refusalGraceMs?: number;
}

/** The decoded response, the seq it echoed, and for a refusal the server's explanation. */
export interface Response<B> {
  seq: number;
  body: B;
  /** Set when `isRefusal` held: resolves with the error notify, or undefined if none came. */
  refusalDetail: Promise<ServerErrorDetail | undefined> | undefined;
}

/**
 * One transport connection with its own seq counter and in-flight requests (a reconnect gets a
 * fresh Connection, so seqs restart at 1 as the protocol expects), plus the heartbeat that keeps
 * the server from dropping it and notices a server that went silent.
 */
export class Connection {
  private readonly tracker = new RequestTracker();
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private lastFrameAt = Date.now();
  private transport: Transport | undefined;
  private stopped = false;

  constructor(
    private readonly handlers: ConnectionHandlers,
    private readonly openTransport: TransportOpener,
  ) {}

  /** Opens the transport; handlers may be called as soon as this starts. */
  async open(url: string, options: TransportOptions): Promise<void> {
    this.transport = await this.openTransport(
      url,
      { frame: (frame) => this.onFrame(frame), closed: (reason, error) => this.onClosed(reason, error) },
      options,
    );
  }

  /** Requests awaiting their answer. */
  get inFlight(): number {
    return this.tracker.size;
  }

  get isOpen(): boolean {
    return this.transport !== undefined && !this.stopped;
  }

  /**
   * Sends `cmd` and resolves with the decoded `responseCmd` frame that echoes its seq.
   *
   * @throws ImClientError `IM_ERR_NOT_CONNECTED` when the connection is gone, `IM_ERR_TIMEOUT`,
   * `IM_ERR_CONNECTION_LOST`, `IM_ERR_PROTOCOL` for an unreadable response, or `spec.refuse`'s error.
   */
  request<C extends CommandId, R extends CommandId>(
    cmd: C,
    body: BodyInput<C>,
    responseCmd: R,
    spec: RequestSpec<BodyOf<R>>,
  ): Promise<Response<BodyOf<R>>> {
    if (!this.isOpen) return Promise.reject(new ImClientError('IM_ERR_NOT_CONNECTED', 'not connected'));
    const seq = this.tracker.nextSeq();
    const frame = encodeClientFrame(cmd, seq, body);
    // Decoded while the frame is being read: its body may be a view into the read buffer, and a
    // refusal's explanation may be the very next frame.
    const answer = this.tracker.track(seq, cmd, responseCmd, spec.timeoutMs, spec.refuse, (response) => {
      const decoded = decodeResponse(cmd, responseCmd, response.body);
      const refused = spec.isRefusal?.(decoded) ?? false;
      return {
        seq,
        body: decoded,
        refusalDetail: refused
          ? this.tracker.awaitRefusalDetail(seq, cmd, spec.refusalGraceMs ?? 0)
          : undefined,
      };
    });
    // A failed write means the transport is closing: its close handler rejects the request.
    this.transport!.write(frame);
    return answer;
  }

  /** Sends a frame nobody answers (receipts, read acks, heartbeats). False when not sent. */
  post<C extends CommandId>(cmd: C, body: BodyInput<C>): boolean {
    if (!this.isOpen) return false;
    return this.transport!.write(encodeClientFrame(cmd, this.tracker.nextSeq(), body));
  }

  /** See {@link RequestTracker.refuse}. */
  refuse(detail: ServerErrorDetail): boolean {
    return this.tracker.refuse(detail);
  }

  /**
   * Sends 0x0105 every `intervalMs` (the server drops connections that stay silent), and closes
   * the connection when nothing at all has come from the server for `idleTimeoutMs`: a dead peer
   * behind a NAT or a half-open socket gives no other sign. 0 disables either.
   */
  startHeartbeat(intervalMs: number, idleTimeoutMs: number): void {
    if (intervalMs <= 0 || this.heartbeat !== undefined || !this.isOpen) return;
    this.lastFrameAt = Date.now();
    this.heartbeat = setInterval(() => {
      if (idleTimeoutMs > 0 && Date.now() - this.lastFrameAt > idleTimeoutMs) {
        this.destroy(`nothing from the server for ${idleTimeoutMs} ms`);
        return;
      }
      this.post(CommandId.LOGIN_HEARTBEAT, {});
    }, intervalMs);
  }

  /**
   * Graceful close: frames already written still go out; requests in flight reject with `err`.
   * Resolves when the socket is gone.
   */
  async close(err: Error): Promise<void> {
    this.stop(err);
    await this.transport?.close();
  }

  destroy(reason: string, error?: Error): void {
    this.transport?.destroy(reason, error);
  }

  private onFrame(frame: ClientFrame): void {
    this.lastFrameAt = Date.now();
    if (!this.tracker.settle(frame)) this.handlers.frame(frame);
  }

  private onClosed(reason: string, error: Error | undefined): void {
    this.stop(new ImClientError('IM_ERR_CONNECTION_LOST', `connection lost: ${reason}`, { cause: error }));
    this.handlers.closed(reason, error);
  }

  private stop(err: Error): void {
    this.stopped = true;
    if (this.heartbeat !== undefined) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    this.tracker.failAll(err);
  }
}

function decodeResponse<R extends CommandId>(cmd: number, responseCmd: R, body: Uint8Array): BodyOf<R> {
  try {
    return decodeClientBody(responseCmd, body);
  } catch (err) {
    throw new ImClientError(
      'IM_ERR_PROTOCOL',
      `unreadable answer to 0x${cmd.toString(16).padStart(4, '0')}: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  }
}
