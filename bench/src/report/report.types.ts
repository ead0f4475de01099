import type { LatencySummary } from '../common/stats';
import type { C2cStepFigures } from '../scenarios/c2c.session';
import type { RampResult } from '../scenarios/c2c-ramp.scenario';
import type { ProcessUsage } from '../scenarios/process.sampler';

// The figures each scenario writes, as the report reads them back from JSON.

export interface SystemEntry<T> {
  label: string;
  result: T;
  connect: { connected: number; failed: number; ms: number };
  closes?: { closed: number; errorNotices: number; reasons: Record<string, number> };
}

export interface SteadyFigures {
  rate: number;
  durationMs: number;
  drainMs: number;
  users: number;
  transport: string;
  receipts: boolean;
  payloadBytes: number;
  systems: Record<string, SystemEntry<C2cStepFigures>>;
}

export interface RampFigures {
  rates: number[];
  stepMs: number;
  p99LimitMs: number;
  users: number;
  systems: Record<string, SystemEntry<RampResult>>;
}

export interface FanoutMessage {
  ackMs: number;
  reached: number;
  expected: number;
  latencyMs: LatencySummary;
}

export interface FanoutFigures {
  members: number;
  online: number;
  gates: number;
  registerMs: number;
  loginMs: number;
  groupCreateMs: number;
  createdWith?: string;
  creationWave?: { reached: number; expected: number; allReachedMs: number };
  coldMessage?: FanoutMessage;
  messages: FanoutMessage[];
  latencyMs: LatencySummary;
  allReachedMs: number;
  missing: number;
  usage: ProcessUsage;
}

export interface IdleFigures {
  requested: number;
  connections: number;
  rssBaselineBytes: number;
  tcp: { connected: number; ms: number; bytesPerConnection: number };
  ws: { connected: number; ms: number; bytesPerConnection: number };
  bytesPerConnection: number;
  idleWindowMs: number;
  heartbeatIntervalMs: number;
  heartbeatsAnswered: number;
  serverCpuMsInWindow: number;
  baselineCpuPct: number;
  heartbeatCpuPct: number;
  cpuUsPerHeartbeat: number | null;
}

export interface RmqFigures {
  lightLoad?: { ratePerSec: number; roundTripMs: { p50: number; p90: number; p99: number; max: number } };
  sequentialPublish?: { msgPerSec: number };
  concurrentPublish?: { publishMsgPerSec: number; endToEndMsgPerSec: number; inFlight: number };
}
