import type { Connection, FrameSink, Transport } from './connection';

/** The seam between the listeners (TCP, WS) and the gate's protocol logic. */
export interface FrameHandler {
  open(transport: Transport, remote: string, sink: FrameSink): Connection;
  frame(conn: Connection, cmd: number, seq: number, body: Buffer): void;
  /**
   * A frame that could not be parsed: the connection is closed with the reason logged, after an
   * ERROR_NOTIFY built from `err` when there is one.
   */
  protocolError(conn: Connection, reason: string, err?: unknown): void;
  closed(conn: Connection): void;
  /** A closed connection was destroyed with output still unsent (its peer stopped reading). */
  torndown(conn: Connection, unsentBytes: number): void;
}

/** What the listeners enforce on their own, before a frame reaches the gate. */
export interface ListenerLimits {
  maxFrameBytes: number;
  /** Frame size cap until the connection has logged in. */
  preLoginMaxFrameBytes: number;
  /** How long a closed TCP socket may take to flush before it is destroyed. */
  closeGraceMs: number;
  /** WebSocket: time for the HTTP request and upgrade. */
  handshakeTimeoutMs: number;
}
