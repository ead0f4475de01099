import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { FrameDecoder, FrameError, type Frame } from '@mqim/protocol';
import type { FrameSink } from './connection';
import type { FrameHandler, ListenerLimits } from './frame-handler';
import { WriteCoalescer } from './write.coalescer';

/**
 * CIM over TCP: a stream of frames. One decoder per socket buffers partial frames and splits
 * chunks holding several. Nagle is off. For a connection that announced nothing (a CoffeeChat
 * client) every frame is its own write(): CoffeeChat's Flutter client breaks when two frames arrive
 * in one read. A connection that announced capabilities (0x0803; mqim's SDKs) reads any
 * segmentation, so the frames written to it within one turn leave in one writev().
 */
export class TcpListener {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private closing?: Promise<void>;
  private readonly coalescer = new WriteCoalescer();

  constructor(
    private readonly handler: FrameHandler,
    private readonly limits: ListenerLimits,
  ) {}

  async listen(host: string, port: number): Promise<number> {
    const server = createServer((socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    return (server.address() as AddressInfo).port;
  }

  private accept(socket: Socket): void {
    socket.setNoDelay(true);
    this.sockets.add(socket);
    const sink: FrameSink = {
      write: (frame) => {
        if (conn.capabilities !== 0) this.coalescer.hold(socket);
        socket.write(frame);
      },
      pendingBytes: () => socket.writableLength,
      // end() waits for the queued output, which a peer that stopped reading never takes: the
      // socket would stay ESTABLISHED with megabytes queued. Past the grace it is destroyed.
      close: () => {
        socket.end(() => socket.destroy());
        setTimeout(() => {
          if (socket.destroyed) return;
          this.handler.torndown(conn, socket.writableLength);
          // A reset, not a FIN: the kernel drops what is still queued for the peer too.
          socket.resetAndDestroy();
        }, this.limits.closeGraceMs).unref();
      },
    };
    const conn = this.handler.open('tcp', `${socket.remoteAddress}:${socket.remotePort}`, sink);
    // Until login a frame is small: a connection that never logs in may not make the gate hold
    // a nearly full max-size partial frame for the whole login window.
    const decoder = new FrameDecoder({ maxFrameLength: this.limits.preLoginMaxFrameBytes });
    let full = false;
    const onFrame = (frame: Frame) => {
      if (!conn.closed) this.handler.frame(conn, frame.commandId, frame.seq, frame.body);
    };
    socket.on('data', (chunk: Buffer) => {
      if (conn.closed) return;
      if (!full && conn.loggedIn) {
        decoder.maxFrameLength = this.limits.maxFrameBytes;
        full = true;
      }
      try {
        decoder.push(chunk, onFrame);
      } catch (err) {
        const reason =
          err instanceof FrameError ? `protocol error: ${err.message}` : `internal error: ${String(err)}`;
        this.handler.protocolError(conn, reason, err);
      }
    });
    // A reset from the peer is normal on mobile networks: log at debug via close(), never throw.
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.sockets.delete(socket);
      this.handler.closed(conn);
    });
  }

  /** Refuses new connections; the open ones stay (drain). */
  stopAccepting(): void {
    const server = this.server;
    if (server) this.closing ??= new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async close(): Promise<void> {
    if (!this.server) return;
    this.stopAccepting();
    for (const socket of this.sockets) socket.destroy();
    await this.closing;
  }
}
