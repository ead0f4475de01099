import type { Mode } from './bench.plan';

export const SCENARIOS = [
  'c2c-steady',
  'c2c-ramp',
  'group-fanout',
  'idle',
  'rmq',
  'hook-cost',
  'send-api',
] as const;
/** Run only when named: each starts its own deployments and answers a narrower question. */
export const OPT_IN_SCENARIOS: readonly Scenario[] = ['hook-cost', 'send-api'];
export type Scenario = (typeof SCENARIOS)[number];

export interface BenchArgs {
  mode: Mode;
  target: 'standalone' | 'cluster';
  scenarios: Scenario[];
  /** Run the Socket.IO cluster and the bare ws relay beside mqim in the c2c scenarios. */
  peers: boolean;
  /** Start mqim under `node --cpu-prof`; profiles land in bench/results/profiles/<run>/. */
  profile: boolean;
  /** Steady c2c rate; default: the target's goal rate. */
  rate?: number;
  transport: 'tcp' | 'ws' | 'mixed';
  /** Override the number of idle connections (still capped by the server's fd limit). */
  idleConnections?: number;
  /** Override the fan-out group size. */
  fanoutMembers?: number;
  /** Create the fan-out group with every member online (measures the creation notification). */
  fanoutCreateOnline: boolean;
  redisUrl: string;
  /** hook-cost: how long the benchmark's before-send hook waits before it answers (ms). */
  hookDelayMs: number;
  /** Only rebuild bench/REPORT.md (and the newest run's report) from bench/results. */
  reportOnly: boolean;
}

export const USAGE = `npm run bench -- [options]

  --quick | --full            sizes and durations (default --quick: under 3 minutes)
  --target standalone|cluster system under test (default standalone)
  --scenario a,b,…            ${SCENARIOS.join(', ')}
                              (default: all but ${OPT_IN_SCENARIOS.join(', ')})
  --no-peers                  skip the Socket.IO cluster and the bare ws relay
  --profile                   CPU-profile the mqim server processes (node --cpu-prof)
  --rate N                    steady c2c rate in msg/s (default: the target's goal)
  --transport tcp|ws|mixed    c2c client transport (default mixed: each pair spans TCP and WS)
  --idle-connections N        idle scenario size (default 5000 quick, 50000 full)
  --fanout-members N          fan-out group size (default 5000)
  --fanout-create-online      create the group after every member logged in (default: before)
  --hook-delay-ms N           hook-cost: the before-send hook answers after N ms (default 5)
  --redis URL                 Redis for the Socket.IO adapter (default redis://127.0.0.1:6379)
  --report-only               rebuild bench/REPORT.md from bench/results without running anything`;

export function parseArgs(argv: string[]): BenchArgs {
  const args: BenchArgs = {
    mode: 'quick',
    target: 'standalone',
    scenarios: SCENARIOS.filter((s) => !OPT_IN_SCENARIOS.includes(s)),
    peers: true,
    profile: false,
    transport: 'mixed',
    redisUrl: process.env.MQIM_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
    reportOnly: false,
    fanoutCreateOnline: false,
    hookDelayMs: 5,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    const positive = () => {
      const n = Number(value());
      if (!Number.isFinite(n) || n <= 0) throw new Error(`${a} needs a positive number`);
      return n;
    };
    switch (a) {
      case '--quick':
      case '--full':
        args.mode = a === '--quick' ? 'quick' : 'full';
        break;
      case '--target': {
        const t = value();
        if (t !== 'standalone' && t !== 'cluster') throw new Error(`unknown target ${t}`);
        args.target = t;
        break;
      }
      case '--scenario': {
        const list = value().split(',');
        for (const s of list)
          if (!(SCENARIOS as readonly string[]).includes(s)) throw new Error(`unknown scenario ${s}`);
        args.scenarios = list as Scenario[];
        break;
      }
      case '--no-peers':
        args.peers = false;
        break;
      case '--profile':
        args.profile = true;
        break;
      case '--rate':
        args.rate = positive();
        break;
      case '--transport': {
        const t = value();
        if (t !== 'tcp' && t !== 'ws' && t !== 'mixed') throw new Error(`unknown transport ${t}`);
        args.transport = t;
        break;
      }
      case '--idle-connections':
        args.idleConnections = Math.floor(positive());
        break;
      case '--report-only':
        args.reportOnly = true;
        break;
      case '--fanout-members':
        args.fanoutMembers = Math.max(2, Math.floor(positive()));
        break;
      case '--fanout-create-online':
        args.fanoutCreateOnline = true;
        break;
      case '--redis':
        args.redisUrl = value();
        break;
      case '--hook-delay-ms':
        args.hookDelayMs = positive();
        break;
      case '--help':
      case '-h':
        console.log(USAGE);
        process.exit(0);
        break;
      default:
        throw new Error(`unknown option ${a}\n\n${USAGE}`);
    }
  }
  return args;
}
