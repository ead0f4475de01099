import pino from 'pino';
import { recordingBus } from '@mqim/bus/testing';
import { MemoryCache } from '@mqim/cache';
import { MqimMetrics } from '@mqim/metrics';
import { CIM, CommandId, FrameDecoder, MqNames, type Frame } from '@mqim/protocol';
import { Connection, type FrameSink } from '../connection';
import { ConnectionTable } from '../connection.table';
import { FrameWriter } from '../frame.writer';
import type { GateContext } from '../gate.context';
import type { GateOptions } from '../gate.options';
import { PresenceEvents } from '../presence.events';
import { QueryBudget } from '../query.budget';
import { SendAdmission } from '../send.admission';

/** A transport that keeps what is written to it, decoded, and can pretend its peer stopped reading. */
export class FakeSink implements FrameSink {
  readonly frames: Frame[] = [];
  closed = false;
  /** Bytes the peer has not taken (set it to play a slow consumer). */
  unread = 0;
  private readonly decoder = new FrameDecoder();
  write(frame: Buffer): void {
    this.frames.push(...this.decoder.pushAll(frame));
  }
  pendingBytes(): number {
    return this.unread;
  }
  close(): void {
    this.closed = true;
  }
  /** The ERROR_NOTIFYs written, decoded. */
  errors(): CIM.Ext.MqimErrorNotify[] {
    return this.frames
      .filter((f) => f.commandId === CommandId.ERROR_NOTIFY)
      .map((f) => CIM.Ext.MqimErrorNotify.decode(f.body));
  }
}

export const TEST_OPTIONS: GateOptions = {
  gateId: 'g1',
  topicPrefix: 'rooms',
  host: '127.0.0.1',
  tcpPort: 0,
  wsPort: 0,
  loginTimeoutMs: 15_000,
  heartbeatTimeoutMs: 60_000,
  maxFrameBytes: 65536,
  maxMsgDataBytes: 1024,
  rateLimitPerSec: 1000,
  rateLimitBurst: 1000,
  routeTtlMs: 90_000,
  maxPendingBytes: 4096,
};

/** The shared state of a gate's rooms, on a recording bus, a memory cache and fake sinks. */
export function roomsFixture(options: Partial<GateOptions> = {}) {
  const { bus, published } = recordingBus();
  const cache = new MemoryCache();
  const metrics = new MqimMetrics({ defaultMetrics: false });
  const log = pino({ level: 'silent' });
  const opts = { ...TEST_OPTIONS, ...options };
  const names = new MqNames(opts.topicPrefix);
  const ctx: GateContext = {
    options: opts,
    deps: { bus, routes: cache.routes, rates: cache.rates, metrics, logger: log },
    names,
    log,
    table: new ConnectionTable(),
    writer: new FrameWriter(opts.maxPendingBytes ?? 4096, metrics, log),
    admission: new SendAdmission({ max: 8192, expireMs: 30_000 }),
    queries: new QueryBudget({
      maxInFlight: 4,
      bytesPerSec: 1 << 20,
      burstBytes: 2 << 20,
      maxUnreadBytes: 1 << 20,
      expireMs: 30_000,
    }),
    presence: new PresenceEvents(bus, names, metrics, opts.gateId, log, 0),
  };
  let n = 0;
  /** An open connection (logged in as `userId` unless 0), its sink. */
  const connect = (userId = 0, now = Date.now()) => {
    const sink = new FakeSink();
    const conn = new Connection(
      `c${++n}`,
      'tcp',
      '10.0.0.1:5000',
      sink,
      { perSecond: 1000, burst: 1000 },
      now,
    );
    ctx.table.add(conn);
    if (userId) ctx.table.bindUser(conn, userId);
    return { conn, sink };
  };
  return { ctx, bus, published, cache, metrics, connect };
}
