import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import WebSocket from 'ws';
import { startStandalone, type Standalone } from '@mqim/composition';
import { mqimSchema, readConfig } from '@mqim/config';
import { CIM, CommandId, ImErrorNumber, encodeFrame } from '@mqim/protocol';
import { createImClient, type ImClient } from '@mqim/sdk';
import { RawClient, waitFor } from '@mqim/testing';
import { jsonLogSink, loopbackEnv, registerUsers } from './testing/standalone.fixture';

const MSG_BYTES = 8000;
const HISTORY_MESSAGES = 100;

describe('gate - abuse: costly reads, slow consumers, pre-login memory, slow handshakes', () => {
  let dir: string;
  let server: Standalone;
  const logs: Record<string, unknown>[] = [];
  let alice: ImClient;
  let bob: ImClient;
  let ids: Record<string, number>;
  /** Median ack latency of a well-behaved send, measured just before each abuse. */
  let baselineMs: number;

  function loggedReason(pattern: RegExp): boolean {
    return logs.some((l) => l.msg === 'closing connection' && pattern.test(String(l.reason)));
  }

  async function ackLatencyMs(n = 9): Promise<number> {
    const times: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      const sent = await alice.send({ to: ids.bob, text: `ping ${i}` });
      expect(sent.serverMsgId).toBeGreaterThan(0);
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    return times[Math.floor(n / 2)]!;
  }

  /** The well-behaved pair is still served, its latency within 2x of its baseline. */
  async function witness(): Promise<void> {
    const got = new Promise<void>((resolve) => bob.once('message', () => resolve()));
    const latency = await ackLatencyMs();
    await got;
    // A millisecond baseline would make scheduler noise on a shared machine a failure: 5 ms is
    // its floor.
    expect(latency).toBeLessThanOrEqual(2 * Math.max(baselineMs, 5));
  }

  async function gauge(state: string, transport: string): Promise<number> {
    const text = await (await fetch(`http://127.0.0.1:${server.ports.http}/metrics`)).text();
    const line = text
      .split('\n')
      .find((l) => l.startsWith(`mqim_connections{transport="${transport}",state="${state}"}`));
    return line ? Number(line.split(' ')[1]) : 0;
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mqim-abuse-gate-'));
    const config = readConfig(mqimSchema, {
      ...loopbackEnv(dir),
      MQIM_HTTP_PORT: '0',
      MQIM_RATE_LIMIT: '5000',
      MQIM_USER_SEND_RATE: '0',
      MQIM_RATE_BURST: '5000',
      MQIM_LOGIN_TIMEOUT: '10s',
      MQIM_MAX_PENDING_OUTPUT: '262144',
      MQIM_CLOSE_GRACE: '500ms',
      MQIM_WS_HANDSHAKE_TIMEOUT: '1s',
    });
    const sink = jsonLogSink(logs);
    server = await startStandalone(config, pino({ level: 'info' }, sink));
    ids = await registerUsers(server, ['alice', 'bob', 'mallory', 'slow']);
    alice = createImClient({ url: `tcp://127.0.0.1:${server.ports.tcp}` });
    bob = createImClient({ url: `ws://127.0.0.1:${server.ports.ws}/ws` });
    await alice.connect();
    await bob.connect();
    await alice.loginWithPassword('alice', 'pw');
    await bob.loginWithPassword('bob', 'pw');
    // A history worth ~800 KB per page with the default page cap of 100 messages.
    const big = 'x'.repeat(MSG_BYTES);
    const mallory = createImClient({ url: `tcp://127.0.0.1:${server.ports.tcp}` });
    await mallory.connect();
    await mallory.loginWithPassword('mallory', 'pw');
    for (let i = 0; i < HISTORY_MESSAGES; i += 10)
      await Promise.all(
        Array.from({ length: 10 }, (_, k) => mallory.send({ to: ids.alice, text: `${i + k} ${big}` })),
      );
    await mallory.close();
  }, 60_000);

  beforeEach(async () => {
    await ackLatencyMs(3);
    baselineMs = await ackLatencyMs();
  });

  afterAll(async () => {
    await alice?.close();
    await bob?.close();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const historyReq = () =>
    CIM.List.CIMGetMsgListReq.encode({
      userId: 0,
      sessionType: CIM.Def.CIMSessionType.SESSION_TYPE_SINGLE,
      sessionId: ids.alice,
      endMsgId: 0,
      limitCount: 100,
    }).finish();

  it('history - one page is capped in bytes and pages on without a gap', async () => {
    const c = await RawClient.connect('tcp', server.ports.tcp);
    await c.login('mallory');
    c.send(CommandId.LIST_MSG_REQ, 7, historyReq());
    const page = await c.next(CommandId.LIST_MSG_RSP);
    expect(page.body.length).toBeLessThanOrEqual(300 * 1024);
    const first = CIM.List.CIMGetMsgListRsp.decode(page.body).msgList;
    expect(first.length).toBeGreaterThan(1);
    expect(first.length).toBeLessThan(HISTORY_MESSAGES);
    // The next page, older than the oldest received, continues where the first stopped.
    const oldest = Number(first[0]!.serverMsgId);
    c.send(
      CommandId.LIST_MSG_REQ,
      8,
      CIM.List.CIMGetMsgListReq.encode({
        sessionType: CIM.Def.CIMSessionType.SESSION_TYPE_SINGLE,
        sessionId: ids.alice,
        endMsgId: oldest,
        limitCount: 100,
      }).finish(),
    );
    const second = CIM.List.CIMGetMsgListRsp.decode((await c.next(CommandId.LIST_MSG_RSP)).body).msgList;
    expect(Number(second[second.length - 1]!.serverMsgId)).toBe(oldest - 1);
    c.close();
  });

  it.each(['tcp', 'ws'] as const)(
    'history - a burst of queries on one %s connection is refused past its budget with IM_ERR_QUERY_BUDGET',
    async (transport) => {
      const c = await RawClient.connect(transport, transport === 'tcp' ? server.ports.tcp : server.ports.ws);
      await c.login('mallory');
      const t0 = Date.now();
      for (let seq = 10; seq < 110; seq++) c.send(CommandId.LIST_MSG_REQ, seq, historyReq());
      await waitFor(
        () =>
          c.frames.filter(
            (f) => f.commandId === CommandId.LIST_MSG_RSP || f.commandId === CommandId.ERROR_NOTIFY,
          ).length >= 100,
        { timeoutMs: 10_000, message: 'not every query answered' },
      );
      const elapsed = (Date.now() - t0) / 1000;
      const replies = c.frames.filter((f) => f.commandId === CommandId.LIST_MSG_RSP);
      const refusals = c.frames
        .filter((f) => f.commandId === CommandId.ERROR_NOTIFY)
        .map((f) => CIM.Ext.MqimErrorNotify.decode(f.body));
      expect(refusals.length).toBeGreaterThan(0);
      expect(refusals.every((r) => r.errorCode === ImErrorNumber.IM_ERR_QUERY_BUDGET)).toBe(true);
      // 100 pages would be ~80 MB before; the budget is 2 MiB of burst plus 1 MiB/s.
      const bytes = replies.reduce((n, f) => n + f.body.length, 0);
      expect(bytes).toBeLessThanOrEqual(2 * 1024 * 1024 + elapsed * 1024 * 1024 + 300 * 1024);
      await witness();
      c.close();
    },
  );

  it('slow consumer - a TCP client that stops reading is destroyed after the grace, logged and counted', async () => {
    const before = await gauge('open', 'tcp');
    const c = await RawClient.connect('tcp', server.ports.tcp);
    await c.login('slow');
    c.socket.pause();
    const text = 'y'.repeat(MSG_BYTES);
    // Enough to fill both kernel buffers on loopback and then the gate's 256 KiB of output.
    for (let i = 0; i < 2000 && !loggedReason(/slow consumer/); i += 50)
      await Promise.all(Array.from({ length: 50 }, () => alice.send({ to: ids.slow, text })));
    expect(loggedReason(/slow consumer/)).toBe(true);
    await waitFor(async () => (await gauge('open', 'tcp')) === before, {
      timeoutMs: 3000,
      message: 'slow TCP connection still open on the server',
    });
    expect(
      logs.some((l) => String(l.msg).startsWith('connection destroyed') && Number(l.unsentBytes) > 0),
    ).toBe(true);
    c.close();
    await witness();
  }, 60_000);

  it.each(['tcp', 'ws'] as const)(
    'pre-login - a frame larger than a login over %s closes the connection at once with a logged reason',
    async (transport) => {
      const c = await RawClient.connect(transport, transport === 'tcp' ? server.ports.tcp : server.ports.ws);
      const frame = encodeFrame(CommandId.LOGIN_AUTH_REQ, 1, new Uint8Array(60 * 1024));
      // Over TCP only the header and a little of the body: the server must not wait for the rest.
      c.sendRaw(transport === 'tcp' ? frame.subarray(0, 1024) : frame);
      await waitFor(() => c.closed, { timeoutMs: 2000, message: 'pre-login connection still open' });
      expect(loggedReason(/protocol error/)).toBe(true);
      // A real login still fits.
      const ok = await RawClient.connect(transport, transport === 'tcp' ? server.ports.tcp : server.ports.ws);
      await ok.login('mallory');
      ok.close();
      await witness();
    },
  );

  it('pre-login - an unfinished fragmented WS message is cut off by its bytes, not held until 64 KiB', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.ports.ws}/ws`);
    let closed = false;
    ws.on('close', () => (closed = true));
    ws.on('error', () => undefined);
    await new Promise((resolve) => ws.once('open', resolve));
    // Non-final fragments: the ws library buffers them and never hands the gate a frame.
    for (let i = 0; i < 3; i++) ws.send(Buffer.alloc(8 * 1024), { binary: true, fin: false });
    await waitFor(() => closed, { timeoutMs: 2000, message: 'pre-login fragments still buffered' });
    expect(loggedReason(/bytes before login/)).toBe(true);
    await witness();
  });

  it.each([
    ['silent', ''],
    ['trickled headers', 'GET /ws HTTP/1.1\r\nHost: x\r\n'],
  ])('ws handshake - a %s connection is destroyed after the handshake timeout', async (_name, start) => {
    const s = createConnection(server.ports.ws, '127.0.0.1');
    let closed = false;
    s.on('close', () => (closed = true));
    s.on('error', () => undefined);
    await new Promise((resolve) => s.once('connect', resolve));
    if (start) s.write(start);
    const trickle = setInterval(() => start && !closed && s.write('X-Slow: 1\r\n'), 200);
    try {
      await waitFor(() => closed, { timeoutMs: 4000, message: 'slow handshake still open' });
    } finally {
      clearInterval(trickle);
      s.destroy();
    }
    await witness();
  });

  it.each(['tcp', 'ws'] as const)(
    'metrics - the logged_in gauge goes back down when a %s connection leaves',
    async (transport) => {
      const before = await gauge('logged_in', transport);
      const c = await RawClient.connect(transport, transport === 'tcp' ? server.ports.tcp : server.ports.ws);
      await c.login('mallory');
      expect(await gauge('logged_in', transport)).toBe(before + 1);
      c.close();
      await waitFor(async () => (await gauge('logged_in', transport)) === before, {
        timeoutMs: 3000,
        message: 'logged_in gauge not decremented',
      });
    },
  );
});
