import { connect, type Socket } from 'node:net';
import { BusUnavailableError } from '../message-bus.port';
import { CommandDecoder, encodeCommand, isResponse, type RemotingCommand } from './remoting.codec';

export interface RemotingRequest {
  code: number;
  extFields?: Record<string, string | number | boolean | undefined>;
  body?: Uint8Array;
}

/** A remoting response whose code is not SUCCESS (0); `remark` is the server's explanation. */
export class RemotingResponseError extends Error {
  override readonly name = 'RemotingResponseError';
  constructor(
    readonly address: string,
    readonly requestCode: number,
    readonly responseCode: number,
    readonly remark: string | null | undefined,
  ) {
    super(`${address}: request ${requestCode} failed with code ${responseCode}: ${remark ?? '(no remark)'}`);
  }
}

interface Pending {
  resolve: (cmd: RemotingCommand) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/** Version sent in request headers: RocketMQ's `MQVersion.Version.V5_3_0` ordinal. */
const CLIENT_VERSION = 473;

/**
 * One TCP connection to a name server or broker, multiplexing requests by `opaque`. Connects
 * lazily; a broken connection fails its pending requests and is re-made by the next request.
 */
export class RemotingConnection {
  private socket: Socket | undefined;
  private connecting: Promise<Socket> | undefined;
  private readonly pending = new Map<number, Pending>();
  private opaque = 1;
  private closed = false;

  constructor(
    readonly address: string,
    private readonly timeoutMs: number,
  ) {}

  async request(req: RemotingRequest, timeoutMs = this.timeoutMs): Promise<RemotingCommand> {
    if (this.closed) throw new BusUnavailableError(`remoting connection to ${this.address} is closed`);
    const socket = await this.connect();
    const opaque = this.opaque++;
    const extFields: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.extFields ?? {})) if (v !== undefined) extFields[k] = String(v);
    const frame = encodeCommand({
      code: req.code,
      opaque,
      flag: 0,
      version: CLIENT_VERSION,
      extFields,
      body: req.body,
    });
    return new Promise<RemotingCommand>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(opaque);
        reject(
          new BusUnavailableError(`${this.address}: request ${req.code} timed out after ${timeoutMs} ms`),
        );
      }, timeoutMs);
      this.pending.set(opaque, { resolve, reject, timer });
      socket.write(frame);
    });
  }

  close(): void {
    this.closed = true;
    this.fail(new BusUnavailableError(`remoting connection to ${this.address} closed`));
    this.socket?.destroy();
    this.socket = undefined;
  }

  private connect(): Promise<Socket> {
    if (this.socket) return Promise.resolve(this.socket);
    this.connecting ??= new Promise<Socket>((resolve, reject) => {
      const at = this.address.lastIndexOf(':');
      const host = this.address.slice(0, at);
      const port = Number(this.address.slice(at + 1));
      const socket = connect({ host, port });
      socket.setNoDelay(true);
      const decoder = new CommandDecoder();
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new BusUnavailableError(`connect to ${this.address} timed out after ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        this.socket = socket;
        this.connecting = undefined;
        resolve(socket);
      });
      socket.on('data', (data: Buffer) => {
        let commands: RemotingCommand[];
        try {
          commands = decoder.push(data);
        } catch (err) {
          socket.destroy(err as Error);
          return;
        }
        for (const cmd of commands) {
          if (!isResponse(cmd)) continue; // server-initiated requests (none expected for admin use)
          const p = this.pending.get(cmd.opaque);
          if (!p) continue; // answer to a request that timed out
          this.pending.delete(cmd.opaque);
          clearTimeout(p.timer);
          p.resolve(cmd);
        }
      });
      socket.on('error', (err) => {
        clearTimeout(timer);
        if (this.connecting) {
          this.connecting = undefined;
          reject(
            new BusUnavailableError(`cannot connect to ${this.address}: ${err.message}`, { cause: err }),
          );
        }
      });
      socket.on('close', () => {
        clearTimeout(timer);
        if (this.socket === socket) this.socket = undefined;
        this.fail(new BusUnavailableError(`connection to ${this.address} lost`));
      });
    });
    return this.connecting;
  }

  private fail(err: Error): void {
    for (const [opaque, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(opaque);
      p.reject(err);
    }
  }
}
