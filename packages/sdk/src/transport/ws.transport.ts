import WebSocket from 'ws';
import { decodeWsFrame } from '@mqim/protocol';
import { ImClientError } from '../im.errors';
import { CLOSE_GRACE_MS, type Transport, type TransportHandlers, type TransportOptions } from './transport';

/** CIM over WebSocket: one binary message carries exactly one frame. */
export class WsTransport implements Transport {
  readonly kind = 'ws';
  private closedReason: { reason: string; error: Error | undefined } | undefined;
  private readonly gone: Promise<void>;

  private constructor(
    private readonly ws: WebSocket,
    private readonly handlers: TransportHandlers,
    maxFrameLength: number,
  ) {
    ws.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
      if (this.closedReason !== undefined) return;
      try {
        this.handlers.frame(decodeWsFrame(data, isBinary, { maxFrameLength }));
      } catch (err) {
        this.destroy(
          `unreadable frame from server: ${err instanceof Error ? err.message : String(err)}`,
          asError(err),
        );
      }
    });
    ws.on('error', (err) => this.noteClose(`websocket error: ${err.message}`, err));
    this.gone = new Promise((resolve) =>
      ws.once('close', (code: number, reason: Buffer) => {
        this.noteClose(
          `closed by server (${code}${reason.length > 0 ? ` ${reason.toString()}` : ''})`,
          undefined,
        );
        resolve();
        this.handlers.closed(this.closedReason!.reason, this.closedReason!.error);
      }),
    );
  }

  static open(url: string, handlers: TransportHandlers, options: TransportOptions): Promise<WsTransport> {
    return new Promise((resolve, reject) => {
      // Frames are small protobuf; compression costs more latency than it saves bytes.
      const ws = new WebSocket(url, {
        perMessageDeflate: false,
        maxPayload: options.maxFrameLength,
        handshakeTimeout: options.connectTimeoutMs,
      });
      ws.binaryType = 'nodebuffer';
      // Not once(): a failed handshake may report more than one error, and an 'error' without
      // a listener would crash the process. ws closes the socket itself after a handshake error.
      const onError = (err: Error): void =>
        reject(new ImClientError('IM_ERR_CONNECT_FAILED', `${url}: ${err.message}`, { cause: err }));
      ws.on('error', onError);
      ws.once('open', () => {
        ws.off('error', onError);
        resolve(new WsTransport(ws, handlers, options.maxFrameLength));
      });
    });
  }

  write(frame: Uint8Array): boolean {
    if (this.closedReason !== undefined || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(frame, { binary: true });
    return true;
  }

  close(): Promise<void> {
    this.noteClose('closed by client', undefined);
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) {
      this.ws.close(1000);
      // A server that never completes the closing handshake must not keep the socket alive.
      const timer = setTimeout(() => this.ws.terminate(), CLOSE_GRACE_MS);
      void this.gone.then(() => clearTimeout(timer));
    }
    return this.gone;
  }

  destroy(reason: string, error?: Error): void {
    this.noteClose(reason, error);
    this.ws.terminate();
  }

  private noteClose(reason: string, error: Error | undefined): void {
    this.closedReason ??= { reason, error };
  }
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
