import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { startStandalone, type Standalone } from '@mqim/composition';
import { mqimSchema, readConfig } from '@mqim/config';
import { CimErrorCode, KickOutReason } from '@mqim/protocol';
import { createImClient, type ImClient, type KickOutNotice } from '@mqim/sdk';
import { describeInfra, probeMysql, probeRedis, probeRocketMq, waitFor } from '@mqim/testing';
import {
  embeddedAdapters,
  loopbackEnv,
  realAdapters,
  registerUsers,
  type Adapters,
} from './testing/standalone.fixture';

/**
 * Token lifecycle (issue 10 #12): a session records the id of the token it logged in with, so
 * revoking one token or rotating the user's tokens ends exactly the sessions of the tokens that
 * ended (kick-out CREDENTIALS_REVOKED, which the connection learns), and no others: not the
 * user's devices on other tokens, not its password sessions.
 */
const KEY = 'k-tokens-0123456789';
const { real, drop } = realAdapters('e2e_tok');
const embedded = embeddedAdapters;
afterAll(drop);

function suite(label: string, adapters: Adapters): void {
  describe(`tokens - ending a token ends its sessions only (${label})`, () => {
    let dir: string;
    let s: Standalone;
    const open: ImClient[] = [];
    afterEach(async () => {
      await Promise.all(open.splice(0).map((c) => c.close()));
      await s?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('revoke one token, then rotate: each time exactly the sessions of the ended tokens get CREDENTIALS_REVOKED', async () => {
      dir = mkdtempSync(join(tmpdir(), 'mqim-tokens-'));
      s = await startStandalone(
        readConfig(mqimSchema, loopbackEnv(dir, { ...(await adapters()), MQIM_API_KEY: KEY })),
        pino({ level: 'warn' }),
      );
      const ids = await registerUsers(s, ['vic', 'wes']);
      const headers = { authorization: `Bearer ${KEY}` };
      const issue = async (keepExisting: boolean) => {
        const res = await s.api.inject({
          method: 'POST',
          url: `/api/v1/users/${ids.vic}/tokens`,
          headers,
          payload: { keepExisting },
        });
        expect(res.statusCode).toBe(201);
        return res.json<{ token: string; tokenId: string }>();
      };
      const kicked = new Map<string, KickOutNotice>();
      const device = async (name: string, url: string, login: (c: ImClient) => Promise<unknown>) => {
        const c = createImClient({ url, reconnect: false });
        open.push(c);
        c.on('kickedOut', (k) => kicked.set(name, k));
        await login(c);
        return c;
      };
      const phone = await issue(true);
      const laptop = await issue(true);
      const tcp = `tcp://127.0.0.1:${s.ports.tcp}`;
      const ws = `ws://127.0.0.1:${s.ports.ws}/ws`;
      await device('phone', tcp, (c) => c.loginWithToken(ids.vic!, phone.token));
      const onLaptop = await device('laptop', ws, (c) => c.loginWithToken(ids.vic!, laptop.token));
      const byPassword = await device('password', tcp, (c) => c.loginWithPassword('vic', 'pw'));
      const wes = await device('wes', ws, (c) => c.loginWithPassword('wes', 'pw'));

      const revoked = await s.api.inject({
        method: 'DELETE',
        url: `/api/v1/users/${ids.vic}/tokens/${phone.tokenId}`,
        headers,
      });
      expect(revoked.statusCode).toBe(204);
      await waitFor(() => kicked.has('phone'), { timeoutMs: 5000, message: 'the phone session was ended' });
      expect(kicked.get('phone')).toMatchObject({ reason: KickOutReason.CREDENTIALS_REVOKED });
      // The laptop (its own token) and the password session are still served.
      const toLaptop = new Promise<void>((resolve) => onLaptop.once('message', () => resolve()));
      await wes.send({ to: ids.vic!, text: 'still there?' });
      await toLaptop;
      await byPassword.send({ to: ids.wes!, text: 'yes' });
      expect([...kicked.keys()]).toEqual(['phone']);
      const retry = createImClient({ url: tcp, reconnect: false });
      open.push(retry);
      await expect(retry.loginWithToken(ids.vic!, phone.token)).rejects.toMatchObject({
        code: 'IM_ERR_LOGIN_FAILED',
        resultCode: CimErrorCode.LOGIN_INVALID_USER_TOKEN,
      });

      const fresh = await issue(false);
      await waitFor(() => kicked.has('laptop'), {
        timeoutMs: 5000,
        message: 'the rotated-out laptop session ended',
      });
      expect(kicked.get('laptop')).toMatchObject({ reason: KickOutReason.CREDENTIALS_REVOKED });
      expect(kicked.get('laptop')!.text).toMatch(/rotated/);
      // A session on the new token and the password session outlive the rotation.
      const onFresh = await device('fresh', ws, (c) => c.loginWithToken(ids.vic!, fresh.token));
      const both = Promise.all(
        [onFresh, byPassword].map((c) => new Promise<void>((resolve) => c.once('message', () => resolve()))),
      );
      await wes.send({ to: ids.vic!, text: 'after the rotation' });
      await both;
      expect([...kicked.keys()].sort()).toEqual(['laptop', 'phone']);
    });
  });
}

suite('embedded', embedded);
describeInfra('real RocketMQ, MariaDB and Redis', [probeRocketMq(), probeMysql(), probeRedis()], () =>
  suite('real', real),
);
