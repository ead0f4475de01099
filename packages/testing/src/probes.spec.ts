import { parseHostPorts, probeMysql, probeRedis, probeRocketMq } from './probes';

describe('probes', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('probes - defaults point at the local test services', () => {
    delete process.env.MQIM_TEST_REDIS_URL;
    delete process.env.MQIM_TEST_MYSQL_URI;
    delete process.env.MQIM_TEST_RMQ_ENDPOINTS;
    delete process.env.MQIM_TEST_RMQ_NAMESRV;
    expect(probeRedis().endpoints).toEqual([{ host: '127.0.0.1', port: 6379 }]);
    expect(probeMysql().endpoints).toEqual([{ host: '127.0.0.1', port: 3306 }]);
    expect(probeRocketMq().endpoints).toEqual([
      { host: '127.0.0.1', port: 8081 },
      { host: '127.0.0.1', port: 9876 },
    ]);
  });

  it('probes - env overrides and masked passwords', () => {
    process.env.MQIM_TEST_REDIS_URL = 'redis://:secret@redis.test:7000/2';
    process.env.MQIM_TEST_MYSQL_URI = 'mysql://u:pw@db.test:3307';
    process.env.MQIM_TEST_RMQ_ENDPOINTS = 'a.test:18081;b.test:18082';
    process.env.MQIM_TEST_RMQ_NAMESRV = 'ns.test';
    const redis = probeRedis();
    expect(redis.url).toBe('redis://:secret@redis.test:7000/2');
    expect(redis.target).not.toContain('secret');
    expect(redis.endpoints).toEqual([{ host: 'redis.test', port: 7000 }]);
    expect(probeMysql().target).not.toContain('pw');
    expect(probeMysql().endpoints).toEqual([{ host: 'db.test', port: 3307 }]);
    expect(probeRocketMq().endpoints).toEqual([
      { host: 'a.test', port: 18081 },
      { host: 'b.test', port: 18082 },
      { host: 'ns.test', port: 9876 },
    ]);
  });

  it('parseHostPorts - rejects a bad port', () => {
    expect(() => parseHostPorts('h:0', 1)).toThrow(/bad endpoint/);
  });
});
