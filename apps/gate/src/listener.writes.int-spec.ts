import { connect, Socket } from 'node:net';
import WebSocket from 'ws';
import { CommandId, decodeWsFrame, encodeFrame, FrameDecoder, type Frame } from '@mqim/protocol';
import { Connection, type FrameSink, type Transport } from './connection';
import type { FrameHandler, ListenerLimits } from './frame-handler';
import { TcpListener } from './tcp.listener';
import { WsListener } from './ws.listener';

// Real loopback sockets, no other infrastructure: what leaves the gate's sockets per frame.

const LIMITS: ListenerLimits = {
  maxFrameBytes: 1 << 20,
  preLoginMaxFrameBytes: 4096,
  closeGraceMs: 500,
  handshakeTimeoutMs: 5000,
};
const BURST = 5;

/**
 * Answers any frame with BURST MSG_DATA frames written in one turn; a client that sends
 * CLIENT_CAPABILITIES_REQ (0x0803) is marked as having announced capabilities.
 */
function burstHandler(): FrameHandler {
  let n = 0;
  return {
    open: (transport: Transport, remote: string, sink: FrameSink) =>
      new Connection(`c${++n}`, transport, remote, sink, { perSecond: 1000, burst: 1000 }, Date.now()),
    frame: (conn, cmd) => {
      if (cmd === CommandId.CLIENT_CAPABILITIES_REQ) conn.capabilities = 3;
      for (let i = 1; i <= BURST; i++)
        conn.write(encodeFrame(CommandId.MSG_DATA, i, Buffer.from(`frame ${i}`)));
    },
    protocolError: (conn) => conn.close('protocol error', { info: () => undefined } as never),
    closed: () => undefined,
    torndown: () => undefined,
  };
}

/** Hand-overs to the kernel (one write() or writev() each) by the server's sockets on `port`. */
function countServerWrites(port: () => number) {
  const proto = Socket.prototype as unknown as Record<'_write' | '_writev', (...a: unknown[]) => unknown>;
  const spies = [jest.spyOn(proto, '_write'), jest.spyOn(proto, '_writev')];
  return {
    count: () =>
      spies.reduce(
        (sum, spy) => sum + spy.mock.contexts.filter((s) => (s as Socket).localPort === port()).length,
        0,
      ),
    reset: () => spies.forEach((s) => s.mockClear()),
    restore: () => spies.forEach((s) => s.mockRestore()),
  };
}

const seen = (frames: Frame[]) => frames.map((f) => [f.commandId, f.seq, Buffer.from(f.body).toString()]);
const expected = Array.from({ length: BURST }, (_, i) => [CommandId.MSG_DATA, i + 1, `frame ${i + 1}`]);

async function tcpBurst(port: number, announce: boolean): Promise<Frame[]> {
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const frames: Frame[] = [];
  const decoder = new FrameDecoder();
  const done = new Promise<void>((resolve) =>
    socket.on('data', (chunk: Buffer) =>
      decoder.push(chunk, (f) => {
        // Views of the read: copied before the next read reuses nothing.
        frames.push({ ...f, body: Buffer.from(f.body) });
        if (frames.length === BURST) resolve();
      }),
    ),
  );
  socket.write(encodeFrame(announce ? CommandId.CLIENT_CAPABILITIES_REQ : CommandId.LOGIN_HEARTBEAT, 1));
  await done;
  socket.destroy();
  return frames;
}

describe('gate listeners - frames written in one turn reach the client whole and in order', () => {
  let writes: ReturnType<typeof countServerWrites>;
  let port = 0;
  beforeEach(() => {
    writes = countServerWrites(() => port);
  });
  afterEach(() => writes.restore());

  it('tcp - a client that announced capabilities gets the turn in one write', async () => {
    const listener = new TcpListener(burstHandler(), LIMITS);
    port = await listener.listen('127.0.0.1', 0);
    try {
      const frames = await tcpBurst(port, true);
      expect(seen(frames)).toEqual(expected);
      expect(writes.count()).toBe(1);
    } finally {
      await listener.close();
    }
  });

  it('tcp - a CoffeeChat client (nothing announced) keeps one write per frame', async () => {
    const listener = new TcpListener(burstHandler(), LIMITS);
    port = await listener.listen('127.0.0.1', 0);
    try {
      const frames = await tcpBurst(port, false);
      expect(seen(frames)).toEqual(expected);
      expect(writes.count()).toBe(BURST);
    } finally {
      await listener.close();
    }
  });

  it('ws - one message per frame, the turn in one write', async () => {
    const listener = new WsListener(burstHandler(), LIMITS);
    port = await listener.listen('127.0.0.1', 0);
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    try {
      await new Promise<void>((resolve, reject) => ws.once('open', resolve).once('error', reject));
      writes.reset();
      const frames: Frame[] = [];
      const done = new Promise<void>((resolve) =>
        ws.on('message', (data: Buffer, isBinary: boolean) => {
          frames.push(decodeWsFrame(data, isBinary, { maxFrameLength: 1 << 20 }));
          if (frames.length === BURST) resolve();
        }),
      );
      ws.send(encodeFrame(CommandId.LOGIN_HEARTBEAT, 1));
      await done;
      expect(seen(frames)).toEqual(expected);
      expect(writes.count()).toBe(1);
    } finally {
      ws.terminate();
      await listener.close();
    }
  });
});
