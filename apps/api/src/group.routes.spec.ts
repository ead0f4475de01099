import type { FastifyInstance } from 'fastify';
import { MemoryBus } from '@mqim/bus';
import { GatePublisher } from '@mqim/delivery';
import { MemoryCache } from '@mqim/cache';
import type { Logger } from '@mqim/config';
import { MqimMetrics } from '@mqim/metrics';
import { CIM, CommandId, MqNames, decodeUpstream } from '@mqim/protocol';
import { createSqliteStore, type Store } from '@mqim/store';
import { buildApi } from './index';

const KEY = 'test-api-key-0123456789';
const names = new MqNames('im');
const metrics = new MqimMetrics({ defaultMetrics: false });

/**
 * The HTTP group routes when logic refuses a request with an error notice (0x0802) instead of
 * its response, and when a path id is above 2^53: a status from the refusal table, never a 500.
 * Logic is a stand-in on the in-process bus that answers every request with the notice.
 */
describe('api - group routes: refusals are never a 500', () => {
  let app: FastifyInstance;
  let bus: MemoryBus;
  let store: Store;
  let cache: MemoryCache;
  let asked: number;
  let refuseWith: string;

  beforeEach(async () => {
    asked = 0;
    bus = new MemoryBus();
    await bus.ensureTopics(names.sharedTopics());
    await bus.ensureGroups(names.sharedGroups());
    const replier = new GatePublisher(bus, names, metrics, { windowMs: 0, tag: 'reply' });
    await bus.subscribeBatch({ topic: names.upstream, group: names.logicGroup }, async (messages) => {
      for (const m of messages)
        for (const { request } of decodeUpstream(m.body, m.tag, m.messageGroup)) {
          asked++;
          await replier.send(request.gateId, [
            {
              connId: request.connId,
              cmd: CommandId.ERROR_NOTIFY,
              seq: request.seq,
              body: CIM.Ext.MqimErrorNotify.encode({
                errorName: refuseWith,
                text: 'refused by logic',
                requestSeq: request.seq,
              }).finish(),
            },
          ]);
        }
    });
    store = await createSqliteStore({ filename: ':memory:' });
    cache = new MemoryCache();
    const quiet = { warn: () => undefined, error: () => undefined, info: () => undefined };
    app = buildApi(
      { apiKey: KEY, topicPrefix: 'im', tokenTtlMs: 60_000, limits: {}, sendTimeoutMs: 5000 },
      {
        store,
        cache,
        bus,
        logger: quiet as unknown as Logger,
        metrics,
        health: { check: async () => [] },
      },
    );
    await app.ready();
  });
  afterEach(async () => {
    await app.close();
    await bus.close();
    await cache.close();
    await store.close();
  });

  const call = (method: 'GET' | 'PUT' | 'POST' | 'DELETE', url: string, payload?: object) =>
    app.inject({
      method,
      url: `/api/v1${url}`,
      headers: { authorization: `Bearer ${KEY}` },
      ...(payload ? { payload } : {}),
    });
  const codeOf = (body: string) => (JSON.parse(body) as { error?: { code?: string } }).error?.code;

  it.each([
    ['IM_ERR_FORBIDDEN', 403, 'IM_ERR_FORBIDDEN'],
    ['IM_ERR_NOT_FOUND', 404, 'IM_ERR_NOT_FOUND'],
    ['IM_ERR_ID_OUT_OF_RANGE', 400, 'IM_ERR_ID_OUT_OF_RANGE'],
    ['IM_ERR_BAD_BODY', 502, 'IM_ERR_REFUSED'],
  ])("group routes - logic's error notice %s is %d", async (notice, status, code) => {
    refuseWith = notice;
    const res = await call('PUT', '/groups/12/name', { by: 3, name: 'x' });
    expect(asked).toBe(1);
    expect({ status: res.statusCode, code: codeOf(res.body) }).toEqual({ status, code });
  });

  it.each([
    ['PUT', '/groups/9007199254740993/name', { by: 3, name: 'x' }],
    ['PUT', '/groups/12/admins/9007199254740993', { by: 3 }],
    ['PUT', '/groups/12/members/9007199254740993/mute', { by: 3, muted: true }],
    ['GET', '/groups/12/roles?by=9007199254740993', undefined],
    ['POST', '/groups/9007199254740993/members', { by: 3, members: [4] }],
    ['DELETE', '/groups/9007199254740993', { by: 3 }],
  ] as const)(
    'group routes - %s %s: 400 IM_ERR_ID_OUT_OF_RANGE, logic not asked',
    async (method, url, payload) => {
      const res = await call(method, url, payload);
      expect({ status: res.statusCode, code: codeOf(res.body) }).toEqual({
        status: 400,
        code: 'IM_ERR_ID_OUT_OF_RANGE',
      });
      expect(asked).toBe(0);
    },
  );
});
