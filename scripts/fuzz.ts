/**
 * `npm run fuzz`: starts a standalone server and throws >= 1 M random and mutated frames at it
 * over TCP and WebSocket (login frames before and after login included), then prints the
 * server's resident memory before and after, each measured after a forced GC. Memory must stay
 * flat and the server must still answer a clean login.
 *
 *   npm run fuzz -- [frames=1000000] [connections=8]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { CIM, CommandId, FrameDecoder, encodeFrame } from '@mqim/protocol';
import { passwordMd5 } from '@mqim/sdk';

const TOTAL = Number(process.argv[2] ?? 1_000_000);
const WORKERS = Number(process.argv[3] ?? 8);
const MAX_LEAK_MB = 50;

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'))!;
  return Number(line.split(/\s+/)[1]) / 1024;
}

async function settledRss(pid: number): Promise<number> {
  for (let i = 0; i < 3; i++) {
    process.kill(pid, 'SIGUSR2');
    await sleep(1000);
  }
  return rssMb(pid);
}

/** Deterministic enough to reproduce a run: a seeded xorshift. */
let state = 0x9e3779b9;
function rand(n: number): number {
  state ^= state << 13;
  state ^= state >>> 17;
  state ^= state << 5;
  return (state >>> 0) % n;
}
function randomBytes(n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = rand(256);
  return b;
}

const COMMANDS = Object.values(CommandId).filter((v): v is number => typeof v === 'number');

function validFrames(user: string, peer: number): Buffer[] {
  return [
    encodeFrame(
      CommandId.LOGIN_AUTH_REQ,
      1,
      CIM.Login.CIMAuthReq.encode({ userName: user, userPwd: passwordMd5('pw') }).finish(),
    ),
    encodeFrame(CommandId.LOGIN_HEARTBEAT, 2, new Uint8Array(0)),
    encodeFrame(
      CommandId.MSG_DATA,
      3,
      CIM.Message.CIMMsgData.encode({
        fromUserId: 0,
        toSessionId: peer,
        clientMsgId: 'fuzz-msg',
        msgType: 2,
        sessionType: 1,
        msgData: Buffer.from('hello'),
      }).finish(),
    ),
    encodeFrame(
      CommandId.LIST_MSG_REQ,
      4,
      CIM.List.CIMGetMsgListReq.encode({ sessionType: 1, sessionId: peer, limitCount: 100 }).finish(),
    ),
    encodeFrame(CommandId.LIST_RECENT_CONTACT_SESSION_REQ, 5, new Uint8Array(0)),
  ];
}

/** One fuzzed frame: random, a mutated valid body, or (rarely) a mutated header. */
function fuzzFrame(valid: Buffer[]): Buffer {
  const kind = rand(100);
  if (kind < 40) return encodeFrame(COMMANDS[rand(COMMANDS.length)]!, rand(65536), randomBytes(rand(300)));
  const frame = Buffer.from(valid[rand(valid.length)]!);
  const flips = 1 + rand(4);
  // 2 in 100 hit the header (length, version, command): the stream may break, the connection goes.
  const from = kind < 42 ? 0 : 16;
  if (frame.length > from)
    for (let i = 0; i < flips; i++) frame[from + rand(frame.length - from)] = rand(256);
  return frame;
}

interface Counters {
  frames: number;
  connections: number;
}

async function session(
  ports: { tcp: number; ws: number },
  user: string,
  peer: number,
  c: Counters,
): Promise<void> {
  const useWs = rand(4) === 0;
  const valid = validFrames(user, peer);
  let closed = false;
  let write: (b: Buffer) => Promise<void>;
  let end: () => void;
  const decoder = new FrameDecoder({ maxFrameLength: 16 * 1024 * 1024 });
  let onLogin: (ok: boolean) => void = () => undefined;
  const loggedIn = new Promise<boolean>((r) => (onLogin = r));
  const onData = (chunk: Buffer) => {
    try {
      decoder.push(chunk, (f) => f.commandId === CommandId.LOGIN_AUTH_RSP && onLogin(true));
    } catch {
      closed = true;
    }
  };
  if (useWs) {
    const ws = new WebSocket(`ws://127.0.0.1:${ports.ws}/ws`);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    ws.on('message', (d: Buffer) => onData(d));
    ws.on('close', () => {
      closed = true;
      onLogin(false);
    });
    ws.on('error', () => undefined);
    // One frame per message, as the WS transport requires; a batch waits for the buffer to drain.
    write = async (b) => {
      for (let off = 0; off < b.length;) {
        const len = b.readUInt32BE(off);
        ws.send(b.subarray(off, off + Math.min(Math.max(len, 16), b.length - off)));
        off += Math.min(Math.max(len, 16), b.length - off);
      }
      while (!closed && ws.bufferedAmount > 256 * 1024) await sleep(5);
    };
    end = () => ws.terminate();
  } else {
    const s: Socket = createConnection(ports.tcp, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      s.once('connect', () => resolve());
      s.once('error', reject);
    });
    s.on('data', onData);
    s.on('close', () => {
      closed = true;
      onLogin(false);
    });
    s.on('error', () => undefined);
    write = (b) =>
      new Promise((resolve) => {
        if (s.write(b)) resolve();
        else {
          s.once('drain', () => resolve());
          s.once('close', () => resolve());
        }
      });
    end = () => s.destroy();
  }
  c.connections++;
  // Most sessions log in first so the fuzz reaches the post-login commands; the rest fuzz the
  // login window itself.
  if (rand(10) < 7) {
    await write(valid[0]!);
    c.frames++;
    await Promise.race([loggedIn, sleep(2000)]);
  }
  const budget = 1000 + rand(4000);
  for (let sent = 0; sent < budget && !closed && c.frames < TOTAL;) {
    const batch: Buffer[] = [];
    for (let i = 0; i < 50; i++) batch.push(fuzzFrame(valid));
    // WS needs whole frames: its writer splits on each frame's own (possibly fuzzed) length.
    if (useWs) for (const f of batch) await write(f);
    else await write(Buffer.concat(batch));
    sent += batch.length;
    c.frames += batch.length;
  }
  end();
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mqim-fuzz-'));
  const ports = { tcp: await freePort(), ws: await freePort(), api: await freePort() };
  const child = spawn(
    process.execPath,
    [
      '--expose-gc',
      '--import',
      'tsx',
      '--import',
      './scripts/fuzz-gc-hook.mjs',
      'apps/cli/src/main.ts',
      'standalone',
    ],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: {
        ...process.env,
        MQIM_DATA_DIR: dir,
        MQIM_GATE_HOST: '127.0.0.1',
        MQIM_API_HOST: '127.0.0.1',
        MQIM_GATE_TCP_PORT: String(ports.tcp),
        MQIM_GATE_WS_PORT: String(ports.ws),
        MQIM_API_PORT: String(ports.api),
        MQIM_LOG_LEVEL: 'error',
        // Let the frames through to the parsers and handlers instead of stopping at the flood limit.
        MQIM_RATE_LIMIT: '1000000',
        MQIM_USER_SEND_RATE: '0',
        MQIM_RATE_BURST: '1000000',
      },
    },
  );
  const pid = child.pid!;
  try {
    for (let i = 0; ; i++) {
      const ok = await fetch(`http://127.0.0.1:${ports.api}/healthz`).then(
        (r) => r.status < 500,
        () => false,
      );
      if (ok) break;
      if (i > 300) throw new Error('standalone server did not start');
      await sleep(100);
    }
    const ids: number[] = [];
    // One user per worker, plus one the fuzz never uses (the others end up login-throttled).
    for (let w = 0; w <= WORKERS; w++) {
      const res = await fetch(`http://127.0.0.1:${ports.api}/user/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ userName: `fuzz${w}`, userNickName: `fuzz${w}`, userPwd: passwordMd5('pw') }),
      });
      const body = (await res.json()) as { error_code: number; user_id?: number; userId?: number };
      if (body.error_code !== 200) throw new Error(`register fuzz${w}: ${JSON.stringify(body)}`);
      ids.push(Number(body.user_id ?? body.userId ?? 0));
    }
    const before = await settledRss(pid);
    console.log(`server pid ${pid}; RSS before: ${before.toFixed(1)} MB`);
    const counters: Counters = { frames: 0, connections: 0 };
    const t0 = Date.now();
    const progress = setInterval(
      () =>
        console.log(
          `  ${counters.frames} frames, ${counters.connections} connections, RSS ${rssMb(pid).toFixed(1)} MB`,
        ),
      5000,
    );
    await Promise.all(
      Array.from({ length: WORKERS }, async (_, w) => {
        while (counters.frames < TOTAL)
          await session(ports, `fuzz${w}`, ids[(w + 1) % WORKERS] || 1, counters).catch(() => undefined);
      }),
    );
    clearInterval(progress);
    const seconds = (Date.now() - t0) / 1000;
    await sleep(2000);
    const after = await settledRss(pid);
    console.log(
      `${counters.frames} frames over ${counters.connections} connections in ${seconds.toFixed(1)} s; ` +
        `RSS before ${before.toFixed(1)} MB, after ${after.toFixed(1)} MB (${(after - before >= 0 ? '+' : '') + (after - before).toFixed(1)} MB)`,
    );
    // Still serving: a clean login answers.
    const valid = validFrames(`fuzz${WORKERS}`, ids[0] ?? 1);
    const loginAt = Date.now();
    const alive = await new Promise<boolean>((resolve) => {
      const s = createConnection(ports.tcp, '127.0.0.1', () => s.write(valid[0]!));
      const d = new FrameDecoder();
      s.on('data', (chunk) =>
        d.push(chunk, (f) => f.commandId === CommandId.LOGIN_AUTH_RSP && (s.destroy(), resolve(true))),
      );
      s.on('error', () => resolve(false));
      setTimeout(() => resolve(false), 30_000).unref();
    });
    console.log(`server alive after the run: ${alive} (clean login answered in ${Date.now() - loginAt} ms)`);
    if (!alive || child.exitCode !== null) process.exitCode = 1;
    if (after - before > MAX_LEAK_MB) {
      console.log(`FAIL: RSS grew more than ${MAX_LEAK_MB} MB`);
      process.exitCode = 1;
    }
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
