import type { Connection, FrameSink, Transport } from './connection';

/** The seam between the listeners (TCP, WS) and the gate's protocol logic. */
export interface FrameHandler {
  open(transport: Transport, remote: string, sink: FrameSink): Connection;
  frame(conn: Connection, cmd: number, seq: number, body: Buffer): void;
  /** A frame that could not be parsed: the connection is closed with the reason logged. */
  protocolError(conn: Connection, reason: string): void;
  closed(conn: Connection): void;
}
