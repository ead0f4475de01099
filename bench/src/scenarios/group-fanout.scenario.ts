import { randomBytes } from 'node:crypto';
import { epochMs, sleep } from '../common/clock';
import { log, showProgress } from '../common/progress';
import { round, summarize, type LatencySummary } from '../common/stats';
import { LoadWorkers } from '../load/load.workers';
import type { ConnectResult, UserSpec } from '../load/worker.protocol';
import { FANOUT_PREFIX } from '../load/fanout.recorder';
import { gateEndpoint, type MqimTarget } from '../targets/mqim.target';
import { registerUsers } from '../targets/users.provisioner';
import type { BenchContext, ScenarioOutcome } from './bench.context';
import { sampleProcesses } from './process.sampler';

interface MessageFigures {
  ackMs: number;
  reached: number;
  expected: number;
  latencyMs: LatencySummary;
}

/**
 * One message to a group of `members` users, all online, spread over the target's gates and
 * alternating TCP/WS: the time until each member has it (p50/p99), and until all have it (max).
 */
export async function runGroupFanout(ctx: BenchContext): Promise<ScenarioOutcome> {
  const { messages, workers: workerCount, concurrency, waitMs } = ctx.plan.fanout;
  const members = ctx.args.fanoutMembers ?? ctx.plan.fanout.members;
  const notes: string[] = [];
  const target = await ctx.startMqim('group-fanout');
  let workers: LoadWorkers | undefined;
  try {
    const t0 = performance.now();
    let registered = 0;
    const stopReg = showProgress('fanout register', () => `${registered}/${members} users`);
    const users = await registerUsers(target.api, members, {
      concurrency: 64,
      onProgress: (n) => (registered = n),
    });
    stopReg();
    const registerMs = performance.now() - t0;

    const specs = layout(users, target);
    const perWorker: UserSpec[][] = Array.from({ length: workerCount }, () => []);
    specs.forEach((u, i) => perWorker[i % workerCount]!.push(u));
    workers = LoadWorkers.start(workerCount);
    const w = workers;
    const owner = specs[0]!;
    const connectAll = async (lists: UserSpec[][]) => {
      const stop = showProgress('fanout connect', () => `open ${w.progress().open}/${members}`);
      try {
        return await w.all<ConnectResult>((i) => ({
          op: 'connect',
          users: lists[i]!,
          concurrency,
          heartbeatMs: 30_000,
          timeoutMs: 60_000,
        }));
      } finally {
        stop();
      }
    };
    const createGroup = async () => {
      const t = performance.now();
      const { groupId } = await w.call<{ groupId: number }>(0, {
        op: 'group-create',
        ownerId: owner.userId,
        name: `bench-${ctx.run}`,
        memberIds: specs.slice(1).map((u) => u.userId),
      });
      return { groupId, ms: performance.now() - t };
    };

    // Default: the owner creates the group while the other members are still offline, so the
    // creation notification (which lists every member id) is stored but not pushed to 4,999
    // sockets. --fanout-create-online creates it with everyone online and measures that wave.
    let groupId: number;
    let createMs: number;
    let connects: ConnectResult[];
    let creationWave: { reached: number; expected: number; allReachedMs: number } | undefined;
    if (!ctx.args.fanoutCreateOnline) {
      const ownerConnect = await w.call<ConnectResult>(0, {
        op: 'connect',
        users: [owner],
        concurrency: 1,
        heartbeatMs: 30_000,
        timeoutMs: 60_000,
      });
      if (ownerConnect.connected !== 1)
        throw new Error(`owner login failed: ${ownerConnect.errors.join('; ')}`);
      ({ groupId, ms: createMs } = await createGroup());
      connects = await connectAll(perWorker.map((list, i) => (i === 0 ? list.slice(1) : list)));
      connects[0]!.connected += 1;
      await w.all(() => ({ op: 'group-quiet', minCount: 0, quietMs: 1000, waitMs: 10_000 }) as const);
    } else {
      connects = await connectAll(perWorker);
      const t0 = epochMs();
      ({ groupId, ms: createMs } = await createGroup());
      const online = connects.map((r) => r.connected);
      const wave = await w.all<{ count: number; lastAt: number }>((i) => ({
        op: 'group-quiet',
        minCount: online[i]!,
        quietMs: 1000,
        waitMs: 60_000,
      }));
      creationWave = {
        reached: wave.reduce((s, x) => s + x.count, 0),
        expected: online.reduce((a, b) => a + b, 0),
        allReachedMs: round(Math.max(...wave.map((x) => x.lastAt)) - t0, 0),
      };
      log(
        `  creation notification reached ${creationWave.reached}/${creationWave.expected} in ${creationWave.allReachedMs} ms`,
      );
    }
    const connected = connects.reduce((s, r) => s + r.connected, 0);
    const loginMs = Math.max(...connects.map((r) => r.ms));
    const failed = connects.flatMap((r) => r.errors);
    if (connected < members)
      notes.push(`${members - connected} members failed to log in: ${failed.join('; ')}`);
    log(
      `  ${members} users registered in ${(registerMs / 1000).toFixed(1)} s, ${connected} logged in in ` +
        `${(loginMs / 1000).toFixed(1)} s, group created in ${(createMs / 1000).toFixed(1)} s`,
    );

    const online = connects.map((r) => r.connected);
    const perMessage: MessageFigures[] = [];
    const all: number[] = [];
    const usage = sampleProcesses(target.processes);
    // Message 0 is the cold one (first send to the group: caches, JIT): reported on its own,
    // left out of the aggregate.
    let cold: MessageFigures | undefined;
    for (let k = 0; k <= messages; k++) {
      const id = `${FANOUT_PREFIX}${randomBytes(4).toString('hex')}-${k}`;
      const collecting = w.all<{ latencyMs: number[] }>((i) => ({
        op: 'fanout-collect',
        clientMsgId: id,
        expected: online[i]! - (i === 0 ? 1 : 0),
        waitMs,
      }));
      const { ackMs } = await w.call<{ ackMs: number }>(0, {
        op: 'fanout-send',
        fromId: owner.userId,
        groupId,
        clientMsgId: id,
      });
      const lists = (await collecting).map((r) => r.latencyMs);
      const lat = lists.flat();
      if (k > 0) all.push(...lat);
      const m: MessageFigures = {
        ackMs: round(ackMs),
        reached: lat.length,
        expected: connected - 1,
        latencyMs: summarize(lat),
      };
      if (k === 0) cold = m;
      else perMessage.push(m);
      log(
        `  message ${k === 0 ? '0 (cold)' : k}: reached ${m.reached}/${m.expected}, ack ${m.ackMs} ms, ` +
          `p50/p99/max ${m.latencyMs.p50}/${m.latencyMs.p99}/${m.latencyMs.max} ms`,
      );
      await sleep(500);
    }
    const missing = perMessage.reduce((s, m) => s + (m.expected - m.reached), 0);
    if (missing > 0) notes.push(`${missing} member deliveries missing after ${waitMs} ms`);
    return {
      figures: {
        members,
        online: connected,
        gates: target.gates.length,
        transports: 'alternating TCP / WS',
        registerMs: round(registerMs, 0),
        loginMs: round(loginMs, 0),
        groupCreateMs: round(createMs, 0),
        createdWith: ctx.args.fanoutCreateOnline ? 'every member online' : 'members offline',
        creationWave,
        coldMessage: cold,
        messages: perMessage,
        latencyMs: summarize(all),
        /** Time until every online member had it, worst message. */
        allReachedMs: round(Math.max(...perMessage.map((m) => m.latencyMs.max)), 1),
        missing,
        usage: usage(),
      },
      notes,
    };
  } finally {
    await workers?.close();
    await target.stop();
  }
}

// Member i on gate i mod gates (both gates in the cluster), TCP or WS alternating per gate.
function layout(
  users: { userId: number; userName: string; pwdMd5: string }[],
  target: MqimTarget,
): UserSpec[] {
  const g = target.gates.length;
  return users.map((u, i) => ({
    ...u,
    peerId: 0,
    endpoint: gateEndpoint(target.gates[i % g]!, Math.floor(i / g) % 2 === 0 ? 'tcp' : 'ws'),
    localAddress: `127.0.0.${2 + (i % 8)}`,
  }));
}
