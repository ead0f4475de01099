import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { MemoryBus, type MessageBus } from '@mqim/bus';
import { composeRole, createCache, createStore, type ComposedRole } from '@mqim/composition';
import { mqimSchema, readConfig, type MqimConfig } from '@mqim/config';
import { MqimMetrics } from '@mqim/metrics';
import { CommandId, KickOutReason, MqNames, decodeUpstream } from '@mqim/protocol';
import {
  createImClient,
  passwordMd5,
  ImSendRefusedError,
  type ImClient,
  type KickOutNotice,
} from '@mqim/sdk';
import { waitFor } from '@mqim/testing';

const logger = pino({ level: 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A MemoryBus whose upstream publishes (gate -> logic) that carry a send take `delayMs`: a send "in
 * flight". Only sends: logins and disconnects also publish (presence changes, issue 12).
 */
function slowUpstream(bus: MessageBus, topic: string, delay: { ms: number; held: number }): MessageBus {
  return {
    ensureTopics: (t) => bus.ensureTopics(t),
    ensureGroups: (g) => bus.ensureGroups(g),
    publish: async (m) => {
      const carriesSend = () =>
        decodeUpstream(m.body, m.tag, m.messageGroup).some((r) => r.request.cmd === CommandId.MSG_DATA);
      if (m.topic === topic && delay.ms > 0 && carriesSend()) {
        delay.held++;
        await sleep(delay.ms);
      }
      return bus.publish(m);
    },
    subscribe: (o, h) => bus.subscribe(o, h),
    subscribeBatch: (o, h) => bus.subscribeBatch(o, h),
    close: () => bus.close(),
  };
}

describe('drain - a gate on SIGTERM sends SERVER_SHUTDOWN, finishes sends in flight within its grace, then closes', () => {
  let dir: string;
  let config: MqimConfig;
  let roles: Map<string, ComposedRole>;
  let close: () => Promise<void>;
  const delay = { ms: 0, held: 0 };
  const clients: ImClient[] = [];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mqim-drain-'));
    config = readConfig(mqimSchema, {
      MQIM_DATA_DIR: dir,
      MQIM_GATE_HOST: '127.0.0.1',
      MQIM_API_HOST: '127.0.0.1',
      MQIM_GATE_TCP_PORT: '0',
      MQIM_GATE_WS_PORT: '0',
      MQIM_API_PORT: '0',
      MQIM_API_KEY: 'k-drain-0123456789',
    });
    delay.ms = 0;
    delay.held = 0;
    const memory = new MemoryBus({ logger });
    const names = new MqNames(config.topicPrefix);
    await memory.ensureTopics(names.sharedTopics());
    await memory.ensureGroups(names.sharedGroups());
    const bus = slowUpstream(memory, names.upstream, delay);
    const store = await createStore(config, logger);
    const cache = await createCache(config, logger);
    const deps = { bus, store, cache, metrics: new MqimMetrics(), logger, health: { check: async () => [] } };
    roles = new Map((['logic', 'job', 'gate', 'api'] as const).map((r) => [r, composeRole(r, config, deps)]));
    for (const r of roles.values()) await r.start();
    close = async () => {
      for (const r of ['api', 'logic', 'job'] as const) await roles.get(r)!.stop();
      await bus.close();
      await cache.close();
      await store.close();
    };
    for (const name of ['ann', 'bob'])
      await roles.get('api')!.api!.inject({
        method: 'POST',
        url: '/user/register',
        payload: { userName: name, userNickName: name, userPwd: passwordMd5('pw') },
      });
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close().catch(() => undefined)));
    await close();
    rmSync(dir, { recursive: true, force: true });
  });

  const gate = () => roles.get('gate')!.gate!;
  const login = async (
    name: string,
    transport: 'tcp' | 'ws',
  ): Promise<{ c: ImClient; kicks: KickOutNotice[] }> => {
    const url =
      transport === 'tcp' ? `tcp://127.0.0.1:${gate().ports.tcp}` : `ws://127.0.0.1:${gate().ports.ws}/ws`;
    const c = createImClient({ url, requestTimeoutMs: 10_000, reconnect: false });
    clients.push(c);
    const kicks: KickOutNotice[] = [];
    c.on('kickedOut', (k) => kicks.push(k));
    await c.loginWithPassword(name, 'pw');
    return { c, kicks };
  };
  const online = async (userId: number) =>
    (
      await roles.get('api')!.api!.inject({
        method: 'GET',
        url: `/api/v1/users/${userId}/online`,
        headers: { authorization: 'Bearer k-drain-0123456789' },
      })
    ).json<{ online: boolean }>().online;

  it('drain - every client (TCP and WS) gets the notice, is disconnected, loses its route; new connections are refused', async () => {
    const ann = await login('ann', 'tcp');
    const bob = await login('bob', 'ws');
    const disconnected: string[] = [];
    ann.c.on('disconnected', () => disconnected.push('ann'));
    bob.c.on('disconnected', () => disconnected.push('bob'));
    const tcpPort = gate().ports.tcp;

    const drained = await gate().drain(2000);
    expect(drained).toMatchObject({ connections: 2, unanswered: 0 });
    for (const k of [ann.kicks, bob.kicks])
      expect(k).toEqual([expect.objectContaining({ reason: KickOutReason.SERVER_SHUTDOWN })]);
    await waitFor(() => disconnected.length === 2, {
      timeoutMs: 3000,
      message: 'both clients were disconnected',
    });
    expect(await online(ann.c.user!.userId)).toBe(false);
    expect(await online(bob.c.user!.userId)).toBe(false);

    const refused = await new Promise<string>((resolve) => {
      const s = connect({ host: '127.0.0.1', port: tcpPort });
      s.once('connect', () => resolve('connected'));
      s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    });
    expect(refused).toBe('ECONNREFUSED');
  });

  it('drain - a send in flight when the drain starts is acked before the connection closes', async () => {
    const ann = await login('ann', 'tcp');
    const bobId = (await login('bob', 'tcp')).c.user!.userId;
    delay.ms = 400;
    const sent = ann.c.send({ to: bobId, text: 'just before the drain' });
    // The frame reached the gate; its publish to logic waits on the slow bus.
    await waitFor(() => delay.held === 1, { timeoutMs: 5000, message: 'the send did not reach the bus' });
    const started = Date.now();
    const drained = await gate().drain(3000);
    await expect(sent).resolves.toMatchObject({ serverMsgId: 1 });
    expect(drained).toMatchObject({ connections: 2, unanswered: 0 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(ann.kicks.map((k) => k.reason)).toEqual([KickOutReason.SERVER_SHUTDOWN]);
  });

  it('drain - after the notice a new send is refused at once with IM_ERR_BUSY; the one in flight is still acked', async () => {
    const ann = await login('ann', 'tcp');
    const bobId = (await login('bob', 'tcp')).c.user!.userId;
    delay.ms = 400;
    const inFlight = ann.c.send({ to: bobId, text: 'in flight' });
    await waitFor(() => delay.held === 1, { timeoutMs: 5000, message: 'the send did not reach the bus' });
    const drained = gate().drain(3000);
    await waitFor(() => ann.kicks.length === 1, { timeoutMs: 2000, message: 'no notice' });
    const late = await ann.c.send({ to: bobId, text: 'after the notice' }).catch((err: unknown) => err);
    expect(late).toBeInstanceOf(ImSendRefusedError);
    expect((late as ImSendRefusedError).detail?.errorName).toBe('IM_ERR_BUSY');
    await expect(inFlight).resolves.toMatchObject({ serverMsgId: 1 });
    expect(await drained).toMatchObject({ unanswered: 0 });
  });

  it('drain - the grace is a bound: a send that logic does not answer in time does not hold the gate', async () => {
    const ann = await login('ann', 'tcp');
    const bobId = (await login('bob', 'tcp')).c.user!.userId;
    delay.ms = 5000;
    const sent = ann.c.send({ to: bobId, text: 'too slow' }).catch((err: Error) => err);
    await waitFor(() => delay.held === 1, { timeoutMs: 5000, message: 'the send did not reach the bus' });
    const started = Date.now();
    const drained = await gate().drain(300);
    expect(Date.now() - started).toBeLessThan(2500);
    expect(drained.unanswered).toBe(1);
    expect(await sent).toBeInstanceOf(Error);
  });
});
