import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { FrameDecoder, FrameError, type Frame } from '@mqim/protocol';
import type { FrameSink } from './connection';
import type { FrameHandler } from './frame-handler';

/**
 * CIM over TCP: a stream of frames. One decoder per socket buffers partial frames and splits
 * chunks holding several. Nagle is off and every frame is its own write(): CoffeeChat's Flutter
 * client breaks when two frames arrive in one read.
 */
export class TcpListener {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private closing?: Promise<void>;

  constructor(
    private readonly handler: FrameHandler,
    private readonly maxFrameBytes: number,
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
      write: (frame) => void socket.write(frame),
      pendingBytes: () => socket.writableLength,
      close: () => socket.end(() => socket.destroy()),
    };
    const conn = this.handler.open('tcp', `${socket.remoteAddress}:${socket.remotePort}`, sink);
    const decoder = new FrameDecoder({ maxFrameLength: this.maxFrameBytes });
    const onFrame = (frame: Frame) => {
      if (!conn.closed) this.handler.frame(conn, frame.commandId, frame.seq, frame.body);
    };
    socket.on('data', (chunk: Buffer) => {
      if (conn.closed) return;
      try {
        decoder.push(chunk, onFrame);
      } catch (err) {
        const reason =
          err instanceof FrameError ? `protocol error: ${err.message}` : `internal error: ${String(err)}`;
        this.handler.protocolError(conn, reason);
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
