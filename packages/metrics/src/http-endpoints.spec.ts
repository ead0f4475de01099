import { MqimMetrics } from './metrics';
import { startOpsServer, type HealthSource } from './http-endpoints';

describe('ops server - liveness and readiness', () => {
  let problems: string[];
  const health: HealthSource = { check: async () => problems };
  let ops: Awaited<ReturnType<typeof startOpsServer>>;
  const get = async (path: string) => {
    const res = await fetch(`http://127.0.0.1:${ops.port}${path}`);
    return { status: res.status, body: (await res.json()) as unknown };
  };

  beforeEach(async () => {
    problems = [];
    ops = await startOpsServer(new MqimMetrics(), health, 0, '127.0.0.1');
  });
  afterEach(() => ops.close());

  it('readyz - 503 with the failing dependency named while livez and healthz stay 200', async () => {
    expect(await get('/readyz')).toEqual({ status: 200, body: { ok: true, problems: [] } });
    problems = ['redis: no answer within 2000 ms'];
    expect(await get('/readyz')).toEqual({
      status: 503,
      body: { ok: false, problems: ['redis: no answer within 2000 ms'] },
    });
    expect(await get('/livez')).toEqual({ status: 200, body: { ok: true } });
    expect(await get('/healthz')).toEqual({ status: 200, body: { ok: true } });
  });

  it('readyz - a health check that throws is a 503, not a hung request', async () => {
    const failing = await startOpsServer(
      new MqimMetrics(),
      { check: async () => Promise.reject(new Error('boom')) },
      0,
      '127.0.0.1',
    );
    try {
      const res = await fetch(`http://127.0.0.1:${failing.port}/readyz`);
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ ok: false, problems: ['health: boom'] });
    } finally {
      await failing.close();
    }
  });
});
