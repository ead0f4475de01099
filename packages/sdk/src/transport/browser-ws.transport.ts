import { decodeWsMessage } from '@mqim/protocol/client';
import { ImClientError } from '../im.errors';
import { parseServerUrl } from './server-url';
import {
  CLOSE_GRACE_MS,
  type Transport,
  type TransportHandlers,
  type TransportOpener,
  type TransportOptions,
} from './transport';

// The few members of the WHATWG WebSocket this transport uses, typed here: the repository
// compiles without the DOM library, and Node before 22 has no global WebSocket to type.
interface PlatformWebSocket {
  binaryType: string;
  readonly readyState: number;
  onopen: (() => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onerror: (() => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  send(data: Uint8Array): void;
  close(code?: number): void;
}
type PlatformWebSocketCtor = new (url: string) => PlatformWebSocket;
const OPEN = 1;
const CONNECTING = 0;

function platformWebSocket(): PlatformWebSocketCtor | undefined {
  return (globalThis as { WebSocket?: PlatformWebSocketCtor }).WebSocket;
}

/**
 * CIM over the platform's WebSocket (browsers; Node 22+ has one too): one binary message carries
 * exactly one frame. Unlike the `ws` library, it cannot cap the message size before buffering it,
 * so an oversized frame is refused after it arrived, by the same check.
 */
export class BrowserWsTransport implements Transport {
  readonly kind = 'ws';
  private closedReason: { reason: string; error: Error | undefined } | undefined;
  private readonly gone: Promise<void>;

  private constructor(
    private readonly ws: PlatformWebSocket,
    private readonly handlers: TransportHandlers,
    maxFrameLength: number,
  ) {
    ws.onmessage = (event) => {
      if (this.closedReason !== undefined) return;
      try {
        if (typeof event.data === 'string') throw new Error('text WebSocket message; frames are binary');
        this.handlers.frame(decodeWsMessage(event.data as ArrayBuffer, { maxFrameLength }));
      } catch (err) {
        this.destroy(
          `unreadable frame from server: ${err instanceof Error ? err.message : String(err)}`,
          asError(err),
        );
      }
    };
    ws.onerror = () => this.noteClose('websocket error', undefined);
    this.gone = new Promise((resolve) => {
      ws.onclose = (event) => {
        this.noteClose(
          `closed by server (${event.code}${event.reason ? ` ${event.reason}` : ''})`,
          undefined,
        );
        resolve();
        this.handlers.closed(this.closedReason!.reason, this.closedReason!.error);
      };
    });
  }

  static open(
    url: string,
    handlers: TransportHandlers,
    options: TransportOptions,
  ): Promise<BrowserWsTransport> {
    return new Promise((resolve, reject) => {
      const Ctor = platformWebSocket();
      if (Ctor === undefined) {
        reject(new ImClientError('IM_ERR_CONNECT_FAILED', `${url}: this platform has no WebSocket`));
        return;
      }
      let ws: PlatformWebSocket;
      try {
        ws = new Ctor(url);
      } catch (err) {
        reject(new ImClientError('IM_ERR_CONNECT_FAILED', `${url}: ${asError(err).message}`, { cause: err }));
        return;
      }
      ws.binaryType = 'arraybuffer';
      const timer = setTimeout(() => {
        ws.close();
        reject(
          new ImClientError(
            'IM_ERR_CONNECT_FAILED',
            `${url}: no connection within ${options.connectTimeoutMs} ms`,
          ),
        );
      }, options.connectTimeoutMs);
      // The platform says nothing about why a handshake failed; the close that follows ends it.
      ws.onerror = () => undefined;
      ws.onclose = (event) => {
        clearTimeout(timer);
        reject(new ImClientError('IM_ERR_CONNECT_FAILED', `${url}: connection failed (${event.code})`));
      };
      ws.onopen = () => {
        clearTimeout(timer);
        resolve(new BrowserWsTransport(ws, handlers, options.maxFrameLength));
      };
    });
  }

  write(frame: Uint8Array): boolean {
    if (this.closedReason !== undefined || this.ws.readyState !== OPEN) return false;
    this.ws.send(frame);
    return true;
  }

  close(): Promise<void> {
    this.noteClose('closed by client', undefined);
    if (this.ws.readyState === OPEN || this.ws.readyState === CONNECTING) {
      this.ws.close(1000);
      // A server that never completes the closing handshake must not hold the caller; the
      // platform still reports the close (and `closed` runs) when it gives up.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_GRACE_MS)));
      return Promise.race([this.gone, grace]).finally(() => clearTimeout(timer));
    }
    return this.gone;
  }

  destroy(reason: string, error?: Error): void {
    this.noteClose(reason, error);
    // A page cannot abort a socket harder than close().
    this.ws.close();
  }

  private noteClose(reason: string, error: Error | undefined): void {
    this.closedReason ??= { reason, error };
  }
}

/** The browser entry's opener: `ws://` / `wss://` only. */
export const openBrowserTransport: TransportOpener = (url, handlers, options) => {
  const address = parseServerUrl(url);
  if (address.kind !== 'ws') {
    return Promise.reject(
      new ImClientError('IM_ERR_INVALID_ARGUMENT', `${url}: a browser connects over ws:// or wss:// only`),
    );
  }
  return BrowserWsTransport.open(address.url, handlers, options);
};

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
