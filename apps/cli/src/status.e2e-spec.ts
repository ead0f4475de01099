import type { ClusterStatus } from '@mqim/composition';
import { createImClient, type ImClient } from '@mqim/sdk';
import {
  describeInfra,
  probeMysql,
  probeRedis,
  probeRocketMq,
  startCluster,
  waitFor,
  type MqimCluster,
} from '@mqim/testing';

/**
 * `mqim status` and dead-gate eviction on the cluster topology: roles as processes on RocketMQ,
 * MySQL and Redis. Heartbeats are sped up (0.5 s, TTL 2 s); the route TTL keeps its default
 * (90 s), so a user reported offline within seconds of a `kill -9` was evicted, not expired.
 */
describeInfra(
  'cluster - mqim status and dead-gate route eviction',
  [probeRocketMq(), probeMysql(), probeRedis()],
  () => {
    let cluster: MqimCluster;
    const clients: ImClient[] = [];

    const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
      const res = await fetch(`${cluster.api!.url}/api/v1${path}`, {
        method,
        headers: {
          authorization: `Bearer ${cluster.api!.key}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      expect(res.status).toBeLessThan(300);
      return (await res.json()) as T;
    };
    const status = async (): Promise<ClusterStatus> => {
      const run = await cluster.run(['status', '--json']);
      const line = run.logs.find((l) => 'gates' in l);
      if (!line) throw new Error(`mqim status --json printed no status (exit ${run.code}): ${run.stderr}`);
      return line as unknown as ClusterStatus;
    };
    const online = async (userId: number) =>
      (await api<{ online: boolean }>('GET', `/users/${userId}/online`)).online;

    beforeAll(async () => {
      cluster = await startCluster({
        name: 'status_e2e',
        gates: 2,
        logic: 1,
        jobs: 1,
        env: {
          MQIM_PRESENCE_INTERVAL: '500ms',
          MQIM_PRESENCE_TTL: '2s',
          MQIM_DEAD_GATE_SWEEP: '500ms',
        },
      });
    }, 240_000);

    afterAll(async () => {
      await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
      await cluster?.stop();
    }, 60_000);

    let ann = 0;
    let ben = 0;

    it('status --json - both gates with their connections, every process, dependencies up, lag per group', async () => {
      ann = (await api<{ userId: number }>('POST', '/users', { userName: 's-ann', password: 'pw' })).userId;
      ben = (await api<{ userId: number }>('POST', '/users', { userName: 's-ben', password: 'pw' })).userId;
      const a = createImClient({ url: cluster.gates[0]!.tcp, reconnect: false });
      const b = createImClient({ url: cluster.gates[1]!.ws, reconnect: false });
      clients.push(a, b);
      await a.loginWithPassword('s-ann', 'pw');
      await b.loginWithPassword('s-ben', 'pw');
      await a.send({ to: ben, text: 'hello' });

      let s!: ClusterStatus;
      await waitFor(
        async () => {
          s = await status();
          return s.gates.length === 2 && s.gates.every((g) => g.connections === 1);
        },
        { timeoutMs: 20_000, message: 'status shows both gates with one connection each' },
      );
      expect(s.ok).toBe(true);
      expect(s.gates.map((g) => [g.id, g.connections, g.users])).toEqual([
        ['gate-1', 1, 1],
        ['gate-2', 1, 1],
      ]);
      expect(s.gates[0]!.address).toBe(`${cluster.gates[0]!.tcp} ${cluster.gates[0]!.ws}`);
      expect(s.instances.map((i) => i.role).sort()).toEqual(['api', 'job', 'logic']);
      expect(s.instances.find((i) => i.role === 'logic')!.pid).toBe(cluster.logic[0]!.child.pid);
      expect(s.onlineUsers).toBe(2);
      expect(s.dependencies.map((d) => [d.name, d.kind, d.ok])).toEqual([
        ['redis', 'redis', true],
        ['database', 'mysql', true],
        ['broker', 'rocketmq', true],
      ]);
      expect(s.consumers.source).toBe('broker');
      const groups = new Map(s.consumers.groups.map((g) => [g.group, g]));
      for (const g of ['logic', 'job-deliver', 'job-receipt', 'job-push', 'gate-gate-1', 'gate-gate-2'])
        expect(groups.get(`${cluster.name}-${g}`)).toMatchObject({ lag: expect.any(Number) });
      for (const g of groups.values()) expect(g.error).toBeUndefined();
      // The send went through logic: its group consumed something.
      expect(groups.get(`${cluster.name}-logic`)!.lastConsumedAt).toBeGreaterThan(0);
    });

    it('status --api - the same data through GET /api/v1/cluster/status; the api exports the lag as a gauge', async () => {
      const run = await cluster.run(['status', '--json', '--api', cluster.api!.url]);
      expect(run.code).toBe(0);
      const viaApi = run.logs.find((l) => 'gates' in l) as unknown as ClusterStatus;
      expect(viaApi.gates.map((g) => g.id)).toEqual(['gate-1', 'gate-2']);
      expect(viaApi.consumers.source).toBe('broker');
      const metrics = await (await fetch(`${cluster.api!.url}/metrics`)).text();
      expect(metrics).toMatch(
        new RegExp(
          `^mqim_consumer_lag\\{group="${cluster.name}-logic",topic="${cluster.name}-upstream"\\} \\d+$`,
          'm',
        ),
      );
      expect(metrics).toContain(`group="${cluster.name}-gate-gate-2"`);
    });

    it('status - the human view names the gates, processes and dependencies', async () => {
      const run = await cluster.run(['status']);
      expect(run.code).toBe(0);
      const text = run.logs.map((l) => String(l.msg)).join('\n');
      expect(text).toContain(`mqim cluster "${cluster.name}"`);
      expect(text).toContain('gates: 2 alive, 2 connections, 2 users online');
      expect(text).toMatch(/processes: .*1 logic/);
      expect(text).toMatch(/database\s+mysql\s+up/);
      expect(text).toMatch(new RegExp(`${cluster.name}-logic\\s+${cluster.name}-upstream\\s+\\d+`));
    });

    it('eviction - kill -9 of a gate: its users read offline within seconds (route TTL is 90 s), status drops the gate', async () => {
      expect(await online(ben)).toBe(true);
      const killedAt = Date.now();
      await cluster.gates[1]!.proc.kill();
      await waitFor(async () => !(await online(ben)), {
        timeoutMs: 15_000,
        intervalMs: 100,
        message: "ben's route on the killed gate was evicted",
      });
      const offlineAfterMs = Date.now() - killedAt;
      // Heartbeat TTL 2 s + a sweep every 0.5 s; far below the 90 s the route would have lived.
      expect(offlineAfterMs).toBeLessThan(10_000);
      expect(await online(ann)).toBe(true);
      const sweeperLog = [...cluster.jobs[0]!.logs, ...cluster.logic[0]!.logs].find(
        (l) => l.msg === 'dead gate: no heartbeat, its routes evicted',
      );
      expect(sweeperLog).toMatchObject({ gate: 'gate-2' });

      const s = await status();
      expect(s.gates.map((g) => g.id)).toEqual(['gate-1']);
      expect(s.deadGates).toEqual([]);
      expect(s.onlineUsers).toBe(1);
      const listed = await api<{ total: number; userIds: number[] }>('GET', '/online');
      expect(listed).toMatchObject({ total: 1, userIds: [ann] });
      console.log(`kill -9 gate-2 -> user offline after ${offlineAfterMs} ms`);
    });
  },
);
