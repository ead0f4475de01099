import type { FrameOf } from '@mqim/protocol/client';

/** A frame as transports hand it over: Buffer-backed in Node, a plain Uint8Array in a browser. */
export type ClientFrame = FrameOf<Uint8Array>;

export interface TransportHandlers {
  /** Every complete frame, in arrival order. */
  frame(frame: ClientFrame): void;
  /**
   * Called exactly once per opened transport, when it is gone for whatever reason (peer close,
   * error, `close()`, `destroy()`). Not called when opening fails: the open promise rejects instead.
   */
  closed(reason: string, error: Error | undefined): void;
}

export interface TransportOptions {
  /** Give up opening after this long. */
  connectTimeoutMs: number;
  /** Largest frame accepted from the server; a bigger one closes the transport. */
  maxFrameLength: number;
}

/**
 * A byte pipe that carries whole CIM frames. Contract: `write` sends exactly one frame as one
 * unit (one socket write on TCP, one binary message on WebSocket); frames reach `frame` whole and
 * in order; after `closed` nothing more is delivered and `write` returns false.
 */
export interface Transport {
  readonly kind: 'tcp' | 'ws';
  /** False when the transport is closed (the frame is dropped). */
  write(frame: Uint8Array): boolean;
  /** Graceful close; resolves once the socket is gone. Idempotent. */
  close(): Promise<void>;
  /** Immediate close, e.g. on a protocol error or an idle timeout. */
  destroy(reason: string, error?: Error): void;
}

/** How long a graceful close may take before the socket is torn down. */
export const CLOSE_GRACE_MS = 1000;

/**
 * Opens a transport for a server URL. The Node entry's opener speaks `tcp://` and `ws://`; the
 * browser entry's only `ws://` / `wss://` (a page cannot open raw TCP).
 */
export type TransportOpener = (
  url: string,
  handlers: TransportHandlers,
  options: TransportOptions,
) => Promise<Transport>;
