import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, type WebSocket, type RawData } from 'ws';
import { decodeWsFrame, FrameError } from '@mqim/protocol';
import type { FrameSink } from './connection';
import type { FrameHandler, ListenerLimits } from './frame-handler';
import { WriteCoalescer } from './write.coalescer';

const WS_PATHS = new Set(['/', '/ws']);

/**
 * CIM over WebSocket: one binary message carries exactly one complete frame (same 16-byte
 * header). Text messages and length mismatches are protocol errors.
 */
export class WsListener {
  private http?: Server;
  private wss?: WebSocketServer;
  private closing?: Promise<void>;
  /** One message per frame whatever the segmentation: a turn's frames share one writev(). */
  private readonly coalescer = new WriteCoalescer();

  constructor(
    private readonly handler: FrameHandler,
    private readonly limits: ListenerLimits,
  ) {}

  async listen(host: string, port: number): Promise<number> {
    const wss = new WebSocketServer({
      noServer: true,
      maxPayload: this.limits.maxFrameBytes,
      perMessageDeflate: false,
    });
    const timeout = this.limits.handshakeTimeoutMs;
    // Node's own header/request timeouts are checked every connectionsCheckingInterval, so a
    // trickled request lived 75-85 s with the defaults; a socket timeout also covers silence.
    const http = createServer(
      {
        headersTimeout: timeout,
        requestTimeout: timeout,
        connectionsCheckingInterval: Math.min(1000, timeout),
      },
      (_req, res) => {
        res.writeHead(426, { 'content-type': 'text/plain' });
        res.end('CIM over WebSocket: upgrade at / or /ws\n');
      },
    );
    http.on('connection', (socket: Socket) => {
      socket.setTimeout(timeout, () => socket.destroy());
    });
    http.on('upgrade', (req, socket, head) => {
      // Upgraded: from here the gate's heartbeat timeout watches the connection.
      (socket as Socket).setTimeout(0);
      const path = (req.url ?? '/').split('?')[0];
      if (!WS_PATHS.has(path)) {
        socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) =>
        this.accept(ws, `${req.socket.remoteAddress}:${req.socket.remotePort}`, socket as Socket),
      );
    });
    this.http = http;
    this.wss = wss;
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(port, host, () => resolve());
    });
    return (http.address() as AddressInfo).port;
  }

  private accept(ws: WebSocket, remote: string, socket: Socket): void {
    const raw = (ws as unknown as { _socket?: { setNoDelay(v: boolean): void } })._socket;
    raw?.setNoDelay(true);
    const sink: FrameSink = {
      write: (frame) => {
        this.coalescer.hold(socket);
        ws.send(frame, { binary: true });
      },
      pendingBytes: () => ws.bufferedAmount,
      close: () => ws.close(1000),
    };
    const conn = this.handler.open('ws', remote, sink);
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (conn.closed) return;
      try {
        const frame = decodeWsFrame(data, isBinary, {
          maxFrameLength: conn.loggedIn ? this.limits.maxFrameBytes : this.limits.preLoginMaxFrameBytes,
        });
        this.handler.frame(conn, frame.commandId, frame.seq, frame.body);
      } catch (err) {
        const reason =
          err instanceof FrameError ? `protocol error: ${err.message}` : `internal error: ${String(err)}`;
        this.handler.protocolError(conn, reason, err);
      }
    });
    // Before login the ws library would buffer an unfinished (fragmented) message up to maxPayload
    // before the gate sees a byte of it (issue 10 #8): the raw bytes are counted instead, and a
    // connection that sends more than two login frames' worth before logging in is cut off.
    const preLoginCap = 2 * this.limits.preLoginMaxFrameBytes + 1024;
    let preLoginBytes = 0;
    const countPreLogin = (chunk: Buffer) => {
      if (conn.loggedIn || conn.closed) {
        socket.off('data', countPreLogin);
        return;
      }
      preLoginBytes += chunk.length;
      if (preLoginBytes <= preLoginCap) return;
      socket.off('data', countPreLogin);
      this.handler.protocolError(
        conn,
        `protocol error: ${preLoginBytes} bytes before login (limit ${preLoginCap})`,
      );
      ws.terminate();
    };
    socket.on('data', countPreLogin);
    // maxPayload violations and resets surface here; ws closes the socket itself.
    ws.on('error', (err) => this.handler.protocolError(conn, `websocket error: ${err.message}`));
    ws.on('close', () => this.handler.closed(conn));
  }

  /** Refuses new connections and upgrades; the open WebSockets stay (drain). */
  stopAccepting(): void {
    const http = this.http;
    if (http) this.closing ??= new Promise<void>((resolve) => http.close(() => resolve()));
  }

  async close(): Promise<void> {
    this.stopAccepting();
    for (const ws of this.wss?.clients ?? []) ws.terminate();
    this.wss?.close();
    await this.closing;
  }
}
