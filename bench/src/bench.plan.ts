/** Sizes and durations of every scenario, per mode. Quick must finish in under 3 minutes. */
export interface BenchPlan {
  c2c: {
    users: number;
    workers: number;
    concurrency: number;
    heartbeatMs: number;
    /** Receivers send CoffeeChat's 0x0302 delivery receipt, as real clients do. */
    receipts: boolean;
    payloadBytes: number;
    /** Unrecorded load after connecting: JIT, pools and caches warm before anything is measured. */
    warmup: { rate: number; durationMs: number };
    /**
     * The same for the cluster target (every system of the run gets it): five Node processes, a
     * broker JVM and a seeded counter per conversation need longer than one process.
     */
    clusterWarmup: { rate: number; durationMs: number };
  };
  steady: { durationMs: number; drainMs: number };
  ramp: {
    /** Standalone and the peers. */
    rates: number[];
    /** The cluster's steps: they bracket its capacity on a small machine (hundreds of msg/s). */
    clusterRates: number[];
    /** At least 5 s: shorter steps measure warm-up, not the rate. */
    stepMs: number;
    drainMs: number;
    p99LimitMs: number;
  };
  fanout: { members: number; messages: number; workers: number; concurrency: number; waitMs: number };
  idle: {
    /** Idle connections wanted in total, half TCP and half WS (capped by the server's fd limit). */
    connections: number;
    workers: number;
    concurrency: number;
    heartbeatMs: number;
    /** CPU of the idle server before any connection: subtracted from the heartbeat window. */
    baselineMs: number;
    windowMs: number;
    settleMs: number;
  };
  rmq: { args: string[] };
}

export type Mode = 'quick' | 'full';

const RAMP_QUICK = [250, 500, 1000, 2000, 4000, 8000, 16000];
const RAMP_CLUSTER_QUICK = [100, 200, 400, 700, 1000, 1500, 2000, 3000];
const RAMP_CLUSTER_FULL = [100, 200, 300, 400, 500, 600, 800, 1000, 1250, 1500, 2000, 2500, 3000, 4000];
const RAMP_FULL = [
  250, 500, 1000, 2000, 3000, 4000, 5000, 6000, 8000, 10000, 12500, 15000, 17500, 20000, 25000, 30000,
];

export function planFor(mode: Mode): BenchPlan {
  const quick = mode === 'quick';
  return {
    c2c: {
      users: quick ? 200 : 1000,
      workers: 2,
      concurrency: 50,
      heartbeatMs: 30_000,
      receipts: true,
      payloadBytes: 64,
      warmup: { rate: 200, durationMs: quick ? 1_000 : 5_000 },
      clusterWarmup: { rate: 200, durationMs: quick ? 10_000 : 15_000 },
    },
    steady: { durationMs: quick ? 4_000 : 60_000, drainMs: quick ? 4_000 : 15_000 },
    ramp: {
      rates: quick ? RAMP_QUICK : RAMP_FULL,
      clusterRates: quick ? RAMP_CLUSTER_QUICK : RAMP_CLUSTER_FULL,
      stepMs: quick ? 5_000 : 10_000,
      drainMs: quick ? 2_000 : 10_000,
      p99LimitMs: 200,
    },
    fanout: { members: 5000, messages: quick ? 3 : 10, workers: 2, concurrency: 100, waitMs: 30_000 },
    idle: {
      connections: quick ? 5_000 : 50_000,
      workers: quick ? 2 : 4,
      concurrency: 100,
      heartbeatMs: 30_000,
      baselineMs: quick ? 2_000 : 15_000,
      windowMs: quick ? 15_000 : 60_000,
      settleMs: quick ? 1_500 : 5_000,
    },
    rmq: { args: quick ? ['--light', '300', '--seq', '200', '--conc', '2000'] : [] },
  };
}

/** The goals the report measures gaps against (from the benchmark issue). */
export const GOALS = {
  clusterC2c: { rate: 2000, p99Ms: 100 },
  standaloneC2c: { rate: 15000, p99Ms: 20 },
  vsSocketIo: { factor: 1.5 },
  idleBytesPerConn: 10 * 1024,
  clusterFanout5k: { p99Ms: 500 },
} as const;
