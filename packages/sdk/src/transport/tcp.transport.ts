import { connect, type Socket } from 'node:net';
import { FrameDecoder } from '@mqim/protocol';
import { ImClientError } from '../im.errors';
import { CLOSE_GRACE_MS, type Transport, type TransportHandlers, type TransportOptions } from './transport';

/** CIM over TCP: a stream of frames split by the protocol package's streaming decoder. */
export class TcpTransport implements Transport {
  readonly kind = 'tcp';
  private closedReason: { reason: string; error: Error | undefined } | undefined;
  private readonly gone: Promise<void>;

  private constructor(
    private readonly socket: Socket,
    private readonly handlers: TransportHandlers,
    maxFrameLength: number,
  ) {
    const decoder = new FrameDecoder({ maxFrameLength });
    socket.on('data', (chunk: Buffer) => {
      try {
        decoder.push(chunk, (frame) => this.handlers.frame(frame));
      } catch (err) {
        // A bad length leaves the stream unreadable from here on; a throwing handler is a bug
        // upstream, and either way nothing later on this socket can be trusted.
        this.destroy(`unreadable frame from server: ${errorMessage(err)}`, asError(err));
      }
    });
    socket.on('error', (err) => this.noteClose(`socket error: ${err.message}`, err));
    socket.on('end', () => this.noteClose('closed by server', undefined));
    this.gone = new Promise((resolve) =>
      socket.once('close', () => {
        this.noteClose('connection closed', undefined);
        resolve();
        this.handlers.closed(this.closedReason!.reason, this.closedReason!.error);
      }),
    );
  }

  static open(
    host: string,
    port: number,
    handlers: TransportHandlers,
    options: TransportOptions,
  ): Promise<TcpTransport> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(
          new ImClientError(
            'IM_ERR_CONNECT_FAILED',
            `tcp://${host}:${port}: no connection within ${options.connectTimeoutMs} ms`,
          ),
        );
      }, options.connectTimeoutMs);
      const onError = (err: Error): void => {
        clearTimeout(timer);
        reject(
          new ImClientError('IM_ERR_CONNECT_FAILED', `tcp://${host}:${port}: ${err.message}`, { cause: err }),
        );
      };
      socket.once('error', onError);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.off('error', onError);
        // Small frames (acks, receipts, heartbeats) must leave at once, not wait for Nagle.
        socket.setNoDelay(true);
        resolve(new TcpTransport(socket, handlers, options.maxFrameLength));
      });
    });
  }

  write(frame: Uint8Array): boolean {
    if (this.closedReason !== undefined || this.socket.destroyed || !this.socket.writable) return false;
    this.socket.write(frame);
    return true;
  }

  close(): Promise<void> {
    this.noteClose('closed by client', undefined);
    if (!this.socket.destroyed) {
      // end() lets queued frames (a last receipt, a logout) go out; a peer that never answers
      // the FIN must not keep the socket (or the process) alive.
      this.socket.end();
      const timer = setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS);
      void this.gone.then(() => clearTimeout(timer));
    }
    return this.gone;
  }

  destroy(reason: string, error?: Error): void {
    this.noteClose(reason, error);
    this.socket.destroy();
  }

  // The first reason wins: 'end' or a client close explains the 'close' that follows.
  private noteClose(reason: string, error: Error | undefined): void {
    this.closedReason ??= { reason, error };
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
