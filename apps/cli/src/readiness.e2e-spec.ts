import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import {
  describeInfra,
  freePort,
  probeMysql,
  probeRedis,
  probeRocketMq,
  startCluster,
  waitFor,
  type MqimCluster,
} from '@mqim/testing';

/** A redis-server of this test's own, so stopping it harms no other suite. */
async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', ''], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('Ready to accept connections')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${out}`)));
  });
  return child;
}

async function stopRedis(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGKILL');
  await once(child, 'exit');
}

describeInfra(
  'readiness - /readyz of a role follows its dependencies, /livez does not',
  [probeRocketMq(), probeMysql(), probeRedis()],
  () => {
    let cluster: MqimCluster;
    let redis: ChildProcess;
    let redisPort: number;
    let ops: string;

    const get = async (path: string) => {
      const res = await fetch(`${ops}${path}`);
      return { status: res.status, body: (await res.json()) as { ok: boolean; problems?: string[] } };
    };

    beforeAll(async () => {
      redisPort = await freePort();
      redis = await startRedis(redisPort);
      cluster = await startCluster({
        name: 'ready_e2e',
        gates: 0,
        logic: 0,
        jobs: 1,
        api: false,
        env: { MQIM_REDIS_URL: `redis://127.0.0.1:${redisPort}` },
      });
      ops = `http://127.0.0.1:${cluster.jobs[0]!.ready.opsPort as number}`;
    }, 240_000);

    afterAll(async () => {
      // The cluster's clean-up deletes its Redis keys: give it its Redis back first.
      if (redis.exitCode !== null || redis.signalCode !== null) redis = await startRedis(redisPort);
      await cluster?.stop();
      await stopRedis(redis);
    }, 60_000);

    it('readyz - 200 while Redis answers, 503 naming redis when it stops, 200 again after a restart', async () => {
      expect(await get('/readyz')).toEqual({ status: 200, body: { ok: true, problems: [] } });

      await stopRedis(redis);
      await waitFor(async () => (await get('/readyz')).status === 503, {
        timeoutMs: 15_000,
        message: '/readyz went 503 after Redis stopped',
      });
      const down = await get('/readyz');
      expect(down.body.ok).toBe(false);
      expect(down.body.problems).toEqual([expect.stringMatching(/^redis: /)]);
      // The process itself is fine: a liveness probe must not restart it for a Redis outage.
      expect(await get('/livez')).toEqual({ status: 200, body: { ok: true } });
      expect((await get('/healthz')).status).toBe(200);

      redis = await startRedis(redisPort);
      await waitFor(async () => (await get('/readyz')).status === 200, {
        timeoutMs: 15_000,
        message: '/readyz back to 200 after Redis restarted',
      });
    });
  },
);
