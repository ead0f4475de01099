import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import WebSocket from 'ws';
import { startStandalone, type Standalone } from '@mqim/composition';
import { mqimSchema, readConfig } from '@mqim/config';
import {
  CIM,
  ClientCapability,
  CommandId,
  FrameDecoder,
  ImErrorNumber,
  encodeFrame,
  type Frame,
} from '@mqim/protocol';
import { createImClient, passwordMd5, type ImClient } from '@mqim/sdk';
import { waitFor } from '@mqim/testing';
import { jsonLogSink, loopbackEnv, registerUsers } from './testing/standalone.fixture';

/** A raw TCP client: sends arbitrary bytes, records every frame and whether the server hung up. */
class RawClient {
  readonly frames: Frame[] = [];
  closed = false;
  private readonly decoder = new FrameDecoder();
  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk) => this.decoder.push(chunk, (f) => this.frames.push(f)));
    socket.on('close', () => (this.closed = true));
    socket.on('error', () => undefined);
  }
  static connect(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = createConnection(port, '127.0.0.1', () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }
  send(cmd: number, seq: number, body: Uint8Array = new Uint8Array(0)): void {
    this.socket.write(encodeFrame(cmd, seq, body));
  }
  async login(user: string): Promise<number> {
    this.send(
      CommandId.LOGIN_AUTH_REQ,
      1,
      CIM.Login.CIMAuthReq.encode({ userName: user, userPwd: passwordMd5('pw') }).finish(),
    );
    const rsp = await this.next(CommandId.LOGIN_AUTH_RSP);
    return Number(CIM.Login.CIMAuthTokenRsp.decode(rsp.body).userInfo?.userId);
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
    this.socket.destroy();
  }
}

describe('gate - bad input costs the sender its request or connection, never the server', () => {
  let dir: string;
  let server: Standalone;
  const logs: Record<string, unknown>[] = [];
  let alice: ImClient;
  let bob: ImClient;
  let ids: Record<string, number>;

  /** After every bad case, two well-behaved users still chat. */
  async function witness(): Promise<void> {
    const got = new Promise<void>((resolve) => bob.once('message', () => resolve()));
    const sent = await alice.send({ to: ids.bob, text: 'still there?' });
    expect(sent.serverMsgId).toBeGreaterThan(0);
    await got;
  }

  function loggedReason(pattern: RegExp): boolean {
    return logs.some((l) => l.msg === 'closing connection' && pattern.test(String(l.reason)));
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mqim-bad-'));
    const config = readConfig(mqimSchema, {
      ...loopbackEnv(dir),
      MQIM_MAX_FRAME: '4096',
      MQIM_MAX_MSG_DATA: '1024',
      MQIM_RATE_LIMIT: '20',
      MQIM_RATE_BURST: '40',
      MQIM_LOGIN_TIMEOUT: '1500ms',
    });
    const sink = jsonLogSink(logs);
    server = await startStandalone(config, pino({ level: 'info' }, sink));
    ids = await registerUsers(server, ['alice', 'bob', 'mallory']);
    alice = createImClient({ url: `tcp://127.0.0.1:${server.ports.tcp}` });
    bob = createImClient({ url: `ws://127.0.0.1:${server.ports.ws}/ws` });
    await alice.connect();
    await bob.connect();
    await alice.loginWithPassword('alice', 'pw');
    await bob.loginWithPassword('bob', 'pw');
  });

  afterAll(async () => {
    await alice?.close();
    await bob?.close();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('framing - random bytes close the connection with a logged reason', async () => {
    const c = await RawClient.connect(server.ports.tcp);
    c.socket.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    await waitFor(() => c.closed, { timeoutMs: 3000 });
    expect(loggedReason(/protocol error/)).toBe(true);
    await witness();
  });

  it('framing - a length below 16 or above the limit closes the connection', async () => {
    for (const length of [8, 1_000_000]) {
      const c = await RawClient.connect(server.ports.tcp);
      const bad = Buffer.alloc(16);
      bad.writeUInt32BE(length, 0);
      c.socket.write(bad);
      await waitFor(() => c.closed, { timeoutMs: 3000, message: `length ${length} did not close` });
    }
    await witness();
  });

  it('framing - a frame cut in half across chunks is reassembled', async () => {
    const c = await RawClient.connect(server.ports.tcp);
    const frame = encodeFrame(
      CommandId.LOGIN_AUTH_REQ,
      1,
      CIM.Login.CIMAuthReq.encode({ userName: 'mallory', userPwd: passwordMd5('pw') }).finish(),
    );
    c.socket.write(frame.subarray(0, 7));
    await new Promise((r) => setTimeout(r, 50));
    c.socket.write(frame.subarray(7));
    const rsp = CIM.Login.CIMAuthTokenRsp.decode((await c.next(CommandId.LOGIN_AUTH_RSP)).body);
    expect(rsp.resultCode).toBe(200);
    c.close();
  });

  it('protocol - any command before login closes the connection', async () => {
    const c = await RawClient.connect(server.ports.tcp);
    c.send(CommandId.LIST_RECENT_CONTACT_SESSION_REQ, 1);
    await waitFor(() => c.closed, { timeoutMs: 3000 });
    expect(loggedReason(/before login/)).toBe(true);
    await witness();
  });

  it('protocol - no login within the login timeout closes the connection, telling the client why', async () => {
    const c = await RawClient.connect(server.ports.tcp);
    await waitFor(() => c.closed, { timeoutMs: 5000 });
    expect(loggedReason(/login timeout/)).toBe(true);
    const why = CIM.Ext.MqimErrorNotify.decode((await c.next(CommandId.ERROR_NOTIFY, 0)).body);
    expect([why.errorCode, why.errorName]).toEqual([
      ImErrorNumber.IM_ERR_LOGIN_TIMEOUT,
      'IM_ERR_LOGIN_TIMEOUT',
    ]);
  });

  it('login - a wrong token or password answers 2002/2003 and the connection stays open for a retry', async () => {
    const c = await RawClient.connect(server.ports.tcp);
    c.send(
      CommandId.LOGIN_AUTH_TOKEN_REQ,
      1,
      CIM.Login.CIMAuthTokenReq.encode({ userId: ids.mallory, userToken: 'not-a-token' }).finish(),
    );
    expect(
      CIM.Login.CIMAuthTokenRsp.decode((await c.next(CommandId.LOGIN_AUTH_TOKEN_RSP)).body).resultCode,
    ).toBe(2002);
    c.send(
      CommandId.LOGIN_AUTH_TOKEN_REQ,
      2,
      CIM.Login.CIMAuthTokenReq.encode({ userId: ids.mallory, userToken: '' }).finish(),
    );
    expect(
      CIM.Login.CIMAuthTokenRsp.decode((await c.next(CommandId.LOGIN_AUTH_TOKEN_RSP)).body).resultCode,
    ).toBe(2002);
    c.send(
      CommandId.LOGIN_AUTH_REQ,
      3,
      CIM.Login.CIMAuthReq.encode({ userName: 'mallory', userPwd: passwordMd5('wrong') }).finish(),
    );
    expect(CIM.Login.CIMAuthTokenRsp.decode((await c.next(CommandId.LOGIN_AUTH_RSP)).body).resultCode).toBe(
      2003,
    );
    expect(c.closed).toBe(false);
    expect(await c.login('mallory')).toBe(ids.mallory);
    c.close();
  });

  it('protocol - an invalid protobuf body gets IM_ERR_BAD_BODY and the connection stays usable', async () => {
    const c = await RawClient.connect(server.ports.tcp);
    await c.login('mallory');
    c.send(CommandId.MSG_DATA, 2, Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]));
    const err = CIM.Ext.MqimErrorNotify.decode((await c.next(CommandId.ERROR_NOTIFY)).body);
    expect(err).toMatchObject({ errorName: 'IM_ERR_BAD_BODY', requestSeq: 2 });
    c.send(CommandId.LOGIN_HEARTBEAT, 3);
    await c.next(CommandId.LOGIN_HEARTBEAT);
    c.close();
    await witness();
  });

  it('protocol - an unknown command after login is ignored and counted', async () => {
    const c = await RawClient.connect(server.ports.tcp);
    await c.login('mallory');
    const before = await unknownCount();
    c.send(0x7777, 2, Buffer.from('??'));
    c.send(CommandId.LOGIN_HEARTBEAT, 3);
    await c.next(CommandId.LOGIN_HEARTBEAT);
    expect(c.closed).toBe(false);
    expect(await unknownCount()).toBe(before + 1);
    c.close();
  });

  async function unknownCount(): Promise<number> {
    const m = await server.api.inject({ method: 'GET', url: '/metrics' });
    const line = m.body
      .split('\n')
      .find((l) => l.startsWith('mqim_errors_total{code="IM_ERR_UNKNOWN_COMMAND"}'));
    return line ? Number(line.split(' ')[1]) : 0;
  }

  async function refusedSend(body: CIM.Message.ICIMMsgData): Promise<{ resCode: number; error: string }> {
    const c = await RawClient.connect(server.ports.tcp);
    await c.login('mallory');
    // An mqim client: it reads res_code, so it gets the refused 0x0302 (a CoffeeChat client gets
    // only the 0x0802, ADR 0012; compat-legacy.e2e-spec).
    c.send(
      CommandId.CLIENT_CAPABILITIES_REQ,
      2,
      CIM.Compat.MqimClientCapabilitiesReq.encode({ flags: ClientCapability.REFUSED_SEND_ACK }).finish(),
    );
    await c.next(CommandId.CLIENT_CAPABILITIES_RSP);
    c.send(
      CommandId.MSG_DATA,
      7,
      CIM.Message.CIMMsgData.encode({
        clientMsgId: `bad-${Math.random()}`,
        msgType: 1,
        sessionType: 1,
        msgData: Buffer.from('x'),
        ...body,
      }).finish(),
    );
    const ack = CIM.Message.CIMMsgDataAck.decode((await c.next(CommandId.MSG_DATA_ACK)).body);
    const err = CIM.Ext.MqimErrorNotify.decode((await c.next(CommandId.ERROR_NOTIFY)).body);
    expect(err.requestSeq).toBe(7);
    expect(c.closed).toBe(false);
    c.close();
    return { resCode: ack.resCode, error: err.errorName };
  }

  it('send - a forged from_user_id is refused and nothing is stored for the victim', async () => {
    const r = await refusedSend({ fromUserId: ids.alice, toSessionId: ids.bob });
    expect(r).toEqual({ resCode: CIM.Def.CIMResCode.RES_CODE_UNKNOWN, error: 'IM_ERR_FORBIDDEN' });
    const bobHistory = await server.store.messages.history(ids.bob, 1, ids.alice, { limit: 100 });
    expect(bobHistory.some((m) => m.clientMsgId.startsWith('bad-'))).toBe(false);
    await witness();
  });

  it('send - messages to oneself or to a user that does not exist are refused', async () => {
    expect(await refusedSend({ toSessionId: ids.mallory })).toMatchObject({
      error: 'IM_ERR_INVALID_ARGUMENT',
    });
    expect(await refusedSend({ toSessionId: 999_999 })).toMatchObject({ error: 'IM_ERR_NOT_FOUND' });
    expect(
      await refusedSend({ toSessionId: ids.bob, sessionType: 7 as CIM.Def.CIMSessionType }),
    ).toMatchObject({
      error: 'IM_ERR_INVALID_ARGUMENT',
    });
  });

  it('send - msg_data over the size limit is refused at the gate', async () => {
    const r = await refusedSend({ toSessionId: ids.bob, msgData: Buffer.alloc(2000, 0x61) });
    expect(r.error).toBe('IM_ERR_INVALID_ARGUMENT');
    await witness();
  });

  it('send - an id above 2^53 is refused, not rounded', async () => {
    const r = await refusedSend({ toSessionId: '18446744073709551615' as unknown as number });
    expect(r.error).toBe('IM_ERR_ID_OUT_OF_RANGE');
    expect(ImErrorNumber.IM_ERR_ID_OUT_OF_RANGE).toBeGreaterThan(10000);
  });

  it('websocket - a text message closes the connection', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.ports.ws}/ws`);
    await new Promise((r) => ws.once('open', r));
    const closed = new Promise((r) => ws.once('close', r));
    ws.send('hello');
    await closed;
    expect(loggedReason(/text WebSocket message|frames are binary/)).toBe(true);
    await witness();
  });

  it('flood - a connection past its rate limit gets IM_ERR_RATE_LIMITED, then is closed', async () => {
    const c = await RawClient.connect(server.ports.tcp);
    await c.login('mallory');
    const burst = Buffer.concat(
      Array.from({ length: 200 }, (_, i) => encodeFrame(CommandId.LOGIN_HEARTBEAT, (i % 60000) + 2)),
    );
    c.socket.write(burst);
    const err = CIM.Ext.MqimErrorNotify.decode((await c.next(CommandId.ERROR_NOTIFY)).body);
    expect(err.errorName).toBe('IM_ERR_RATE_LIMITED');
    await waitFor(() => c.closed, { timeoutMs: 3000 });
    expect(loggedReason(/flood/)).toBe(true);
    await witness();
  });
});
