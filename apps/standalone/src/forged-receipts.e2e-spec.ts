import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { startStandalone, type Standalone } from '@mqim/composition';
import { mqimSchema, readConfig } from '@mqim/config';
import { CIM, CommandId } from '@mqim/protocol';
import { createImClient, type ImClient } from '@mqim/sdk';
import { RawClient, describeInfra, probeMysql, probeRedis, probeRocketMq, waitFor } from '@mqim/testing';
import {
  embeddedAdapters,
  loopbackEnv,
  realAdapters,
  registerUsers,
  type Adapters,
} from './testing/standalone.fixture';

/**
 * Issue 10 #12: a 0x0302 delivery receipt naming a session its sender has no conversation with is
 * dropped by the job, so it creates no receipt state for anyone; the real parties' delivered and
 * read marks stay what their own receipts made them, and the sender's real receipts still count.
 */
const { real, drop } = realAdapters('e2e_rcpt');
const embedded = embeddedAdapters;
afterAll(drop);

function suite(label: string, adapters: Adapters): void {
  describe(`receipts - forged receipts for other people's sessions are dropped (${label})`, () => {
    let dir: string;
    let s: Standalone;
    const open: ImClient[] = [];
    let raw: RawClient | undefined;
    afterEach(async () => {
      raw?.close();
      await Promise.all(open.splice(0).map((c) => c.close()));
      await s?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('a receipt naming a conversation of others (single or group) changes nothing; a real one of the same client counts', async () => {
      dir = mkdtempSync(join(tmpdir(), 'mqim-rcpt-'));
      s = await startStandalone(
        readConfig(mqimSchema, loopbackEnv(dir, { ...(await adapters()), MQIM_RECEIPT_FLUSH: '100ms' })),
        pino({ level: 'warn' }),
      );
      const ids = await registerUsers(s, ['ann', 'ben', 'cat', 'dan']);
      const login = async (name: string) => {
        const c = createImClient({ url: `tcp://127.0.0.1:${s.ports.tcp}`, reconnect: false });
        open.push(c);
        await c.loginWithPassword(name, 'pw');
        return c;
      };
      const [ann, ben, dan] = [await login('ann'), await login('ben'), await login('dan')];
      const group = await ann.createGroup({ name: 'ab', memberIds: [ids.ben!] });
      const got = new Promise<void>((resolve) => ben.once('message', () => resolve()));
      const sent = await ann.send({ to: ids.ben!, text: 'for ben only' });
      await got;
      const receipt = (user: number, type: 1 | 2, session: number) =>
        s.store.receipts.get(user, type, session);
      await waitFor(async () => (await receipt(ids.ben!, 1, ids.ann!))?.deliveredMsgId === sent.serverMsgId, {
        timeoutMs: 10_000,
        message: "ben's own receipt stored",
      });
      const before = {
        ben: await receipt(ids.ben!, 1, ids.ann!),
        ann: await receipt(ids.ann!, 1, ids.ben!),
      };
      const fromDan = await dan.send({ to: ids.cat!, text: 'for cat' });

      // cat, with no conversation with ann or ben and not in the group, forges receipts.
      raw = await RawClient.connect('tcp', s.ports.tcp);
      await raw.login('cat');
      const ack = (sessionType: number, toSessionId: number, serverMsgId: number) =>
        CIM.Message.CIMMsgDataAck.encode({ sessionType, toSessionId, serverMsgId, resCode: 0 }).finish();
      raw.send(CommandId.MSG_DATA_ACK, 2, ack(1, ids.ann!, 999));
      raw.send(CommandId.MSG_DATA_ACK, 3, ack(1, ids.ben!, 999));
      raw.send(CommandId.MSG_DATA_ACK, 4, ack(2, group.group.groupId, 999));
      // ...and acknowledges dan's message, which is its own.
      raw.send(CommandId.MSG_DATA_ACK, 5, ack(1, ids.dan!, fromDan.serverMsgId));
      await waitFor(
        async () => (await receipt(ids.cat!, 1, ids.dan!))?.deliveredMsgId === fromDan.serverMsgId,
        {
          timeoutMs: 10_000,
          message: "cat's real receipt stored",
        },
      );
      // The real receipt is the barrier: written right after the forged ones on the same
      // connection, it leaves the gate in their receipt batch (one window), so once it is stored
      // they were judged.

      expect(await receipt(ids.cat!, 1, ids.ann!)).toBeNull();
      expect(await receipt(ids.cat!, 1, ids.ben!)).toBeNull();
      expect(await receipt(ids.cat!, 2, group.group.groupId)).toBeNull();
      expect(await receipt(ids.ben!, 1, ids.ann!)).toEqual(before.ben);
      expect(await receipt(ids.ann!, 1, ids.ben!)).toEqual(before.ann);
      expect(await s.cache.receipts.deliveredUpTo(ids.cat!, 1, ids.ann!)).toBe(0);
      expect(raw.closed).toBe(false);
    });
  });
}

suite('embedded', embedded);
describeInfra('real RocketMQ, MariaDB and Redis', [probeRocketMq(), probeMysql(), probeRedis()], () =>
  suite('real', real),
);
