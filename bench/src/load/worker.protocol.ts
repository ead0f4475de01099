// Messages between the orchestrator (bench/src/main.ts) and its load worker processes over the
// fork() IPC channel. Every command carries an id; the worker answers each with one reply.

/** Where one simulated client connects, and which wire protocol it speaks. */
export type Endpoint =
  /** CIM frames over TCP (mqim gate). */
  | { kind: 'cim-tcp'; host: string; port: number }
  /** CIM frames, one per binary WebSocket message (mqim gate). */
  | { kind: 'cim-ws'; url: string }
  /** CIM frames through the bare ws relay (no login, no ack: the forwarding limit). */
  | { kind: 'relay-ws'; url: string }
  /** Socket.IO events (the peer system). */
  | { kind: 'socketio'; url: string };

export interface UserSpec {
  userId: number;
  userName: string;
  /** Lower-case hex MD5 of the password (CIMAuthReq.user_pwd). */
  pwdMd5: string;
  /** The c2c partner this user sends to; 0 = sends nothing. */
  peerId: number;
  endpoint: Endpoint;
  /** Source address (127.0.0.x) so that many connections do not exhaust one address' ports. */
  localAddress?: string;
}

export interface ConnectCommand {
  op: 'connect';
  users: UserSpec[];
  /** Connections being opened and logged in at the same time. */
  concurrency: number;
  /** Each connection heartbeats at this interval (random phase) once logged in; 0 = never. */
  heartbeatMs: number;
  timeoutMs: number;
}

export interface C2cCommand {
  op: 'c2c';
  /** Messages per second this worker sends, spread round-robin over its senders. */
  ratePerSec: number;
  durationMs: number;
  /** After the last send, wait at most this long for outstanding acks and deliveries. */
  drainMs: number;
  /** Receivers answer each delivery with a 0x0302 receipt, as CoffeeChat clients do. */
  receipts: boolean;
  payloadBytes: number;
}

export interface GroupCreateCommand {
  op: 'group-create';
  ownerId: number;
  name: string;
  memberIds: number[];
}

export interface FanoutSendCommand {
  op: 'fanout-send';
  fromId: number;
  groupId: number;
  clientMsgId: string;
}

export interface FanoutCollectCommand {
  op: 'fanout-collect';
  clientMsgId: string;
  /** Deliveries this worker should see (its online members minus the sender). */
  expected: number;
  waitMs: number;
}

export interface GroupQuietCommand {
  op: 'group-quiet';
  /** Non-fan-out group deliveries this worker must have seen (0: just wait for quiet). */
  minCount: number;
  quietMs: number;
  waitMs: number;
}

export type WorkerCommand = (
  | ConnectCommand
  | C2cCommand
  | GroupCreateCommand
  | FanoutSendCommand
  | FanoutCollectCommand
  | GroupQuietCommand
  | { op: 'stats' }
  | { op: 'close' }
) & { id: number };

export interface ConnectResult {
  connected: number;
  failed: number;
  ms: number;
  /** First few distinct failure reasons. */
  errors: string[];
}

export interface C2cResult {
  sent: number;
  acked: number;
  /** Acks whose res_code was not OK. */
  refused: number;
  delivered: number;
  /** Deliveries of a message this worker had already seen delivered. */
  duplicates: number;
  /** Acked (or, without acks, sent) but not delivered by the end of the drain. */
  lost: number;
  /** Sent but never acked by the end of the drain (systems with acks only). */
  unacked: number;
  /** Deliveries that arrived for a message of an earlier step (after its drain gave up). */
  late: number;
  ackLatencyMs: number[];
  deliveryLatencyMs: number[];
  /** Wall time from first to last send. */
  sendSpanMs: number;
  /** Wall time from first send to the last delivery or ack. */
  totalSpanMs: number;
  /** CPU this worker used during the step (user + system ms): is the generator the limit? */
  workerCpuMs: number;
}

export interface WorkerStats {
  open: number;
  closed: number;
  heartbeatsSent: number;
  heartbeatReplies: number;
  errorNotices: number;
  /** Close and error reasons with counts (first 20 distinct). */
  reasons: Record<string, number>;
}

export interface FanoutCollectResult {
  /** Delivery latency (receive time − send time stamped in the payload) per member reached. */
  latencyMs: number[];
}

export type WorkerReply = { id: number } & ({ ok: true; result: unknown } | { ok: false; error: string });

/** Unsolicited, about once a second: counters since the worker started. */
export interface WorkerProgress {
  op: 'progress';
  open: number;
  sent: number;
  acked: number;
  delivered: number;
}
