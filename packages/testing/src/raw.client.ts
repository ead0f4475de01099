import { createConnection, type Socket } from 'node:net';
import WebSocket from 'ws';
import { CIM, CommandId, FrameDecoder, encodeFrame, type Frame } from '@mqim/protocol';
import { passwordMd5 } from '@mqim/sdk';
import { waitFor } from './net';

/** A raw client over TCP or WS: sends frames, records every frame and when the server hung up. */
export class RawClient {
  readonly frames: Frame[] = [];
  bytesIn = 0;
  closed = false;
  private readonly decoder = new FrameDecoder({ maxFrameLength: 16 * 1024 * 1024 });

  private constructor(
    private readonly tcp: Socket | undefined,
    private readonly ws: WebSocket | undefined,
  ) {
    const onData = (chunk: Buffer) => {
      this.bytesIn += chunk.length;
      this.decoder.push(chunk, (f) => this.frames.push(f));
    };
    if (tcp) {
      tcp.on('data', onData);
      tcp.on('close', () => (this.closed = true));
      tcp.on('error', () => undefined);
    }
    if (ws) {
      ws.on('message', (data: Buffer) => onData(data));
      ws.on('close', () => (this.closed = true));
      ws.on('error', () => undefined);
    }
  }

  static connect(transport: 'tcp' | 'ws', port: number, host = '127.0.0.1'): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      if (transport === 'tcp') {
        const s = createConnection(port, host, () => resolve(new RawClient(s, undefined)));
        s.once('error', reject);
      } else {
        const ws = new WebSocket(`ws://${host}:${port}/ws`, { maxPayload: 16 * 1024 * 1024 });
        ws.once('open', () => resolve(new RawClient(undefined, ws)));
        ws.once('error', reject);
      }
    });
  }

  get socket(): Socket {
    return this.tcp!;
  }

  sendRaw(bytes: Buffer): void {
    if (this.tcp) this.tcp.write(bytes);
    else this.ws!.send(bytes, { binary: true });
  }

  send(cmd: number, seq: number, body: Uint8Array = new Uint8Array(0)): void {
    this.sendRaw(encodeFrame(cmd, seq, body));
  }

  /** Logs in by password ("pw" unless given); throws unless the server answers 200. */
  async login(user: string, password = 'pw'): Promise<void> {
    this.send(
      CommandId.LOGIN_AUTH_REQ,
      1,
      CIM.Login.CIMAuthReq.encode({ userName: user, userPwd: passwordMd5(password) }).finish(),
    );
    const rsp = await this.next(CommandId.LOGIN_AUTH_RSP);
    const code = CIM.Login.CIMAuthTokenRsp.decode(rsp.body).resultCode;
    if (code !== 200) throw new Error(`login of ${user} answered ${code}`);
  }

  /** Logs in by user id and token (0x0101), as CoffeeChat's clients do; throws unless answered 200. */
  async loginWithToken(userId: number, token: string, seq = 1): Promise<void> {
    this.send(
      CommandId.LOGIN_AUTH_TOKEN_REQ,
      seq,
      CIM.Login.CIMAuthTokenReq.encode({ userId, userToken: token }).finish(),
    );
    const rsp = await this.next(CommandId.LOGIN_AUTH_TOKEN_RSP);
    const code = CIM.Login.CIMAuthTokenRsp.decode(rsp.body).resultCode;
    if (code !== 200) throw new Error(`token login of ${userId} answered ${code}`);
  }

  async next(cmd: number, timeoutMs = 3000): Promise<Frame> {
    let found: Frame | undefined;
    await waitFor(() => (found = this.frames.find((f) => f.commandId === cmd)) !== undefined, {
      timeoutMs,
      message: `no frame 0x${cmd.toString(16)}`,
    });
    this.frames.splice(this.frames.indexOf(found!), 1);
    return found!;
  }

  close(): void {
    this.tcp?.destroy();
    this.ws?.terminate();
  }
}
