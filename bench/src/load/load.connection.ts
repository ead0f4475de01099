import type { UserSpec } from './worker.protocol';

/** What a simulated client reports to its worker. Called synchronously from socket callbacks. */
export interface ConnectionEvents {
  /** The server took responsibility for a send (mqim: stored; Socket.IO: relayed). */
  onAck(clientMsgId: string, ok: boolean): void;
  onDeliver(receiverId: number, clientMsgId: string, sessionType: number, payload: Uint8Array): void;
  onHeartbeatReply(): void;
  /** An error notice from the server (the connection may stay open). */
  onErrorNotice(reason: string): void;
  onClose(reason: string): void;
}

/** One simulated client of any system under test, kept as lean as the protocol allows. */
export interface LoadConnection {
  readonly user: UserSpec;
  readonly isOpen: boolean;
  /** Answer each delivery with a receipt (only where the protocol has one). */
  receipts: boolean;
  /** Connects and, where the protocol has one, logs in. */
  open(timeoutMs: number): Promise<void>;
  sendChat(toId: number, sessionType: 1 | 2, clientMsgId: string, payload: Buffer): void;
  heartbeat(): void;
  /** Creates a group and returns its id (mqim only). */
  createGroup(name: string, memberIds: number[], timeoutMs: number): Promise<number>;
  close(): void;
}
