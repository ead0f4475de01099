import {
  describeInfra,
  probeMysql,
  probeRedis,
  probeRocketMq,
  runLegacyScenario,
  runFlutterHttpScenario,
  runVoipScenario,
  startCluster,
  type Endpoint,
  type MqimCluster,
} from '@mqim/testing';

const portOf = (url: string) => Number(new URL(url).port);

/**
 * Issue 12: CoffeeChat's own clients against the cluster (two gates, logic, job, api as processes
 * on RocketMQ, MariaDB and Redis), users spread over both gates, TCP and WS mixed.
 */
describeInfra(
  'compat - CoffeeChat clients on the cluster',
  [probeRocketMq(), probeMysql(), probeRedis()],
  () => {
    let cluster: MqimCluster;
    let endpoints: [Endpoint, Endpoint, Endpoint, Endpoint];

    beforeAll(async () => {
      cluster = await startCluster({
        name: 'compat_e2e',
        gates: 2,
        env: { MQIM_VOIP_RING_TIMEOUT: '2s' },
      });
      const [g0, g1] = cluster.gates as [MqimCluster['gates'][0], MqimCluster['gates'][0]];
      endpoints = [
        { transport: 'tcp', port: portOf(g0.tcp) },
        { transport: 'ws', port: portOf(g1.ws) },
        { transport: 'tcp', port: portOf(g1.tcp) },
        { transport: 'ws', port: portOf(g0.ws) },
      ];
    }, 240_000);

    afterAll(async () => {
      await cluster?.stop();
    }, 60_000);

    it('voip - a call between users on two gates: signalling, busy, bye, AVCHAT message, ring-out', async () => {
      await runVoipScenario({ apiUrl: cluster.api!.url, endpoints, ringTimeoutMs: 2000, firstUserId: 2001 });
    }, 90_000);

    it('flutter http - a 6-character register token logs in on gate 2; nickname query and generate answer the legacy shape', async () => {
      await runFlutterHttpScenario({
        apiUrl: cluster.api!.url,
        gateUrl: cluster.gates[1]!.tcp,
        userId: 4001,
      });
    }, 60_000);

    it('legacy - no self-copies and no refused 0x0302 for CoffeeChat clients across gates; the SDK keeps both', async () => {
      await runLegacyScenario({
        apiUrl: cluster.api!.url,
        endpoints: endpoints.slice(0, 3) as [Endpoint, Endpoint, Endpoint],
        firstUserId: 3001,
      });
    }, 60_000);
  },
);
