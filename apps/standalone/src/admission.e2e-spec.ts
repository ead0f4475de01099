import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { startStandalone, type Standalone } from '@mqim/composition';
import { mqimSchema, readConfig } from '@mqim/config';
import { ImErrorNumber } from '@mqim/protocol';
import { createImClient, ImSendRefusedError, type ImClient } from '@mqim/sdk';
import { waitFor } from '@mqim/testing';
import { loopbackEnv, registerUsers } from './testing/standalone.fixture';

/**
 * Admission control over real sockets: when the store falls behind, the gate holds at most
 * MQIM_GATE_MAX_OUTSTANDING unanswered sends; the next one is refused at once with IM_ERR_BUSY,
 * which the SDK surfaces, instead of queueing. Once the store catches up, everything admitted is
 * stored and delivered and new sends are taken again.
 */
describe('gate - admission control under a stalled store', () => {
  const MAX = 3;
  let dir: string;
  let server: Standalone;
  let alice: ImClient;
  let bob: ImClient;
  let ids: Record<string, number>;
  let release: () => void = () => undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mqim-busy-'));
    const config = readConfig(mqimSchema, loopbackEnv(dir, { MQIM_GATE_MAX_OUTSTANDING: String(MAX) }));
    server = await startStandalone(config, pino({ level: 'silent' }));
    ids = await registerUsers(server, ['alice', 'bob']);
    alice = createImClient({ url: `tcp://127.0.0.1:${server.ports.tcp}` });
    bob = createImClient({ url: `ws://127.0.0.1:${server.ports.ws}/ws` });
    await alice.connect();
    await bob.connect();
    await alice.loginWithPassword('alice', 'pw');
    await bob.loginWithPassword('bob', 'pw');
  });

  afterAll(async () => {
    release();
    await alice?.close();
    await bob?.close();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses the send past the limit with IM_ERR_BUSY and serves again once the store catches up', async () => {
    const received: string[] = [];
    bob.on('message', (m) => received.push(m.text ?? ''));
    await alice.send({ to: ids.bob!, text: 'before' });

    // The store stalls: every save waits until released.
    const messages = server.store.messages;
    const save = messages.save.bind(messages);
    let stalled = 0;
    const gate = new Promise<void>((resolve) => (release = resolve));
    messages.save = async (...args: Parameters<typeof save>) => {
      stalled++;
      await gate;
      return save(...args);
    };

    const admitted = Array.from({ length: MAX }, (_, i) =>
      alice.send({ to: ids.bob!, text: `held ${i}` }, { timeoutMs: 10_000 }),
    );
    await waitFor(() => stalled >= 1, { timeoutMs: 3000, message: 'no save reached the store' });

    const refused = await alice.send({ to: ids.bob!, text: 'one too many' }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(refused).toBeInstanceOf(ImSendRefusedError);
    expect((refused as ImSendRefusedError).detail?.errorName).toBe('IM_ERR_BUSY');
    expect((refused as ImSendRefusedError).detail?.errorCode).toBe(ImErrorNumber.IM_ERR_BUSY);

    release();
    messages.save = save;
    const acks = await Promise.all(admitted);
    expect(new Set(acks.map((a) => a.serverMsgId)).size).toBe(MAX);
    const after = await alice.send({ to: ids.bob!, text: 'after' });
    expect(after.serverMsgId).toBeGreaterThan(Math.max(...acks.map((a) => a.serverMsgId)));

    await waitFor(() => received.includes('after'), { timeoutMs: 5000 });
    expect(received).toEqual(['before', 'held 0', 'held 1', 'held 2', 'after']);
    const history = await bob.history({ sessionType: 1, sessionId: ids.alice!, limit: 20 });
    expect(history.map((m) => m.text)).not.toContain('one too many');
    expect(history).toHaveLength(5);
  });
});

/** The per-user send limit counts a user's sends across all of its connections (issue 10 #13). */
describe('gate - sends per user across connections', () => {
  let dir: string;
  let server: Standalone;
  const open: ImClient[] = [];

  afterAll(async () => {
    await Promise.all(open.map((c) => c.close()));
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('two connections of one user share one budget (IM_ERR_USER_RATE_LIMITED past it); another user is served', async () => {
    dir = mkdtempSync(join(tmpdir(), 'mqim-usersend-'));
    server = await startStandalone(
      readConfig(mqimSchema, loopbackEnv(dir, { MQIM_USER_SEND_RATE: '1', MQIM_USER_SEND_BURST: '10' })),
      pino({ level: 'silent' }),
    );
    const ids = await registerUsers(server, ['flo', 'gus', 'hal']);
    const login = async (name: string, url: string) => {
      const c = createImClient({ url });
      open.push(c);
      await c.loginWithPassword(name, 'pw');
      return c;
    };
    const tcp = await login('flo', `tcp://127.0.0.1:${server.ports.tcp}`);
    const ws = await login('flo', `ws://127.0.0.1:${server.ports.ws}/ws`);
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 ? ws : tcp).send({ to: ids.gus!, text: `m${i}` }).then(
          () => 'ok',
          (err: unknown) => (err as ImSendRefusedError).detail?.errorName ?? String(err),
        ),
      ),
    );
    const ok = outcomes.filter((o) => o === 'ok').length;
    // The burst of 10 is the user's, not each connection's (which would let 20 through).
    expect(ok).toBeGreaterThanOrEqual(10);
    expect(ok).toBeLessThanOrEqual(11);
    expect(outcomes.filter((o) => o === 'IM_ERR_USER_RATE_LIMITED')).toHaveLength(20 - ok);

    const hal = await login('hal', `tcp://127.0.0.1:${server.ports.tcp}`);
    await expect(hal.send({ to: ids.gus!, text: 'not limited by flo' })).resolves.toMatchObject({
      serverMsgId: 1,
    });
  });
});
