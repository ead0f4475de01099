import { io, type Socket } from 'socket.io-client';
import type { ConnectionEvents, LoadConnection } from './load.connection';
import type { UserSpec } from './worker.protocol';

/** The peer relays `{ to, c, p }` events to the room of user `to` and acks the sender. */
export interface SocketIoChat {
  to: number;
  c: string;
  p: string;
}

/**
 * A Socket.IO client of the comparison cluster: WebSocket transport only (no long-polling
 * upgrade dance, as a fair peer to our WS), text payloads (binary would cost Socket.IO a second
 * WebSocket message per event), its own ping/pong instead of CIM heartbeats.
 */
export class SocketIoConnection implements LoadConnection {
  receipts = false;
  private socket: Socket | null = null;

  constructor(
    readonly user: UserSpec,
    private readonly events: ConnectionEvents,
  ) {}

  get isOpen(): boolean {
    return this.socket?.connected ?? false;
  }

  open(timeoutMs: number): Promise<void> {
    const ep = this.user.endpoint;
    if (ep.kind !== 'socketio') throw new Error(`SocketIoConnection cannot speak ${ep.kind}`);
    const socket = io(ep.url, {
      transports: ['websocket'],
      auth: { userId: this.user.userId },
      reconnection: false,
      forceNew: true,
      timeout: timeoutMs,
    });
    this.socket = socket;
    socket.on('m', (msg: SocketIoChat) => {
      this.events.onDeliver(this.user.userId, msg.c, 1, Buffer.from(msg.p, 'latin1'));
    });
    return new Promise<void>((resolve, reject) => {
      socket.once('connect', () => {
        socket.on('disconnect', (reason) => this.events.onClose(`socket.io ${reason}`));
        resolve();
      });
      socket.once('connect_error', (err) => reject(err));
    });
  }

  sendChat(toId: number, _sessionType: 1 | 2, clientMsgId: string, payload: Buffer): void {
    const chat: SocketIoChat = { to: toId, c: clientMsgId, p: payload.toString('latin1') };
    this.socket?.emit('m', chat, (ok: boolean) => this.events.onAck(clientMsgId, ok === true));
  }

  heartbeat(): void {
    // Socket.IO runs its own ping/pong (server-initiated); nothing to send.
  }

  createGroup(): Promise<number> {
    return Promise.reject(new Error('the Socket.IO peer has no groups'));
  }

  close(): void {
    this.socket?.disconnect();
  }
}
