import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { mqimSchema, readConfig, type MqimConfig } from '@mqim/config';
import { MqimMetrics } from '@mqim/metrics';
import { createBus, createCache, createStore } from './adapters.factory';
import { composeRole, ROLES } from './role.composition';
import { startStandalone } from './standalone';

const logger = pino({ level: 'silent' });

describe('composition - one place builds every role', () => {
  let dir: string;
  let config: MqimConfig;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mqim-compose-'));
    config = readConfig(mqimSchema, {
      MQIM_DATA_DIR: dir,
      MQIM_GATE_HOST: '127.0.0.1',
      MQIM_API_HOST: '127.0.0.1',
      MQIM_GATE_TCP_PORT: '0',
      MQIM_GATE_WS_PORT: '0',
      MQIM_API_PORT: '0',
      MQIM_API_KEY: 'k-compose-0123456789',
      MQIM_PUSH_WEBHOOK_URL: 'http://127.0.0.1:9/push',
      MQIM_PUSH_WEBHOOK_SECRET: 'compose-secret',
    });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** Each role on adapters of its own, as `mqim <role>` builds it (without listening). */
  async function clusterFeatures(): Promise<string[]> {
    const features: string[] = [];
    for (const role of ROLES) {
      const bus = await createBus(config, logger);
      const cache = await createCache(config, logger);
      const store = role === 'gate' ? undefined : await createStore(config, logger);
      const composed = composeRole(role, config, {
        bus,
        cache,
        store,
        metrics: new MqimMetrics(),
        logger,
        health: { check: async () => [] },
      });
      features.push(...composed.features);
      await composed.api?.close();
      await store?.close();
      await cache.close();
      await bus.close();
    }
    return features;
  }

  it('parity - the standalone and the per-role processes wire the same features, push and kick included', async () => {
    const s = await startStandalone(config, logger);
    try {
      const cluster = await clusterFeatures();
      expect([...cluster].sort()).toEqual([...s.features].sort());
      expect(cluster).toEqual(expect.arrayContaining(['push:webhook', 'kick']));
    } finally {
      await s.stop();
    }
  });

  it('parity - push settings reach the job: with none configured the job has no provider', async () => {
    const none = readConfig(mqimSchema, { MQIM_DATA_DIR: dir });
    const store = await createStore(none, logger);
    const bus = await createBus(none, logger);
    const cache = await createCache(none, logger);
    try {
      const deps = {
        bus,
        cache,
        store,
        metrics: new MqimMetrics(),
        logger,
        health: { check: async () => [] },
      };
      expect(composeRole('job', none, deps).features).toEqual(['job']);
      expect(composeRole('job', config, deps).features).toEqual(['job', 'push:webhook']);
    } finally {
      await store.close();
      await cache.close();
      await bus.close();
    }
  });

  it("presence - a gate lists itself while it runs, drops its previous incarnation's routes at start, leaves on stop", async () => {
    const bus = await createBus(config, logger);
    const cache = await createCache(config, logger);
    const stale = { userId: 7, gateId: config.gateId, connId: 'old-1', clientType: 1, loginAt: 1 };
    await cache.routes.register(stale, 60_000);
    await cache.routes.register({ ...stale, gateId: 'gate-other' }, 60_000);
    const gate = composeRole('gate', config, {
      bus,
      cache,
      metrics: new MqimMetrics(),
      logger,
      health: { check: async () => [] },
    });
    try {
      await gate.start();
      expect((await cache.routes.lookup([7])).get(7)?.map((r) => r.gateId)).toEqual(['gate-other']);
      const [listed] = await cache.presence.list();
      expect(listed).toMatchObject({
        role: 'gate',
        id: config.gateId,
        pid: process.pid,
        connections: 0,
        address: `tcp://127.0.0.1:${gate.gate!.ports.tcp} ws://127.0.0.1:${gate.gate!.ports.ws}/ws`,
      });
      expect(listed!.version).toMatch(/^\d+\.\d+\.\d+/);
    } finally {
      await gate.stop();
    }
    expect(await cache.presence.list()).toEqual([]);
    await cache.close();
    await bus.close();
  });
});
