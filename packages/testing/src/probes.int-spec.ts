import { describeInfra } from './infra';
import { probeMysql, probeRedis } from './probes';

// describeInfra itself runs each probe's check() in a beforeAll: these pass only when the
// protocol-level checks (PING, SELECT 1) succeed against the real services.
describeInfra('probes - redis', probeRedis(), () => {
  it('probeRedis - PING succeeds', async () => {
    await expect(probeRedis().check()).resolves.toBeUndefined();
  });
});

describeInfra('probes - mysql', probeMysql(), () => {
  it('probeMysql - SELECT 1 succeeds', async () => {
    await expect(probeMysql().check()).resolves.toBeUndefined();
  });
});
