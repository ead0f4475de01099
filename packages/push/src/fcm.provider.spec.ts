import { generateKeyPairSync } from 'node:crypto';
import { createLogger } from '@mqim/config';
import { startFakeFcm, type FakeFcm } from './testing';
import { FcmProvider, type FcmProviderOptions } from './fcm.provider';
import { PushConfigError } from './push.errors';
import type { PushNotification } from './push.port';
import { waitFor } from '@mqim/testing';

const logger = createLogger('test', 'silent');
const target = { platform: 'fcm' as const, token: 'fcm-token-1' };
const note: PushNotification = {
  userId: 9,
  title: 'Carol',
  body: 'lunch?',
  badge: 2,
  collapseKey: '2:500',
  data: { session_type: '2', session_id: '500', server_msg_id: '77' },
};

describe('FcmProvider', () => {
  let fake: FakeFcm;
  let clock: number;
  const now = (): number => clock;
  const providers: FcmProvider[] = [];
  const make = (o: Partial<FcmProviderOptions> = {}): FcmProvider => {
    const p = new FcmProvider({
      ...fake.providerOptions(),
      retry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 2000 },
      logger,
      now,
      ...o,
    });
    providers.push(p);
    return p;
  };

  beforeEach(async () => {
    clock = Date.now();
    fake = await startFakeFcm({ now });
  });
  afterEach(async () => {
    await Promise.all(providers.splice(0).map((p) => p.close()));
    await fake.close();
  });

  it('fcm - exchanges a verified RS256 assertion and sends the v1 message', async () => {
    expect(await make().send(target, note)).toEqual({ ok: true });
    expect(fake.tokenRejections).toEqual([]);
    const [exchange] = fake.tokenRequests;
    const iat = Math.floor(clock / 1000);
    expect(exchange.header).toEqual({ alg: 'RS256', typ: 'JWT', kid: fake.serviceAccount.private_key_id });
    expect(exchange.claims).toEqual({
      iss: fake.serviceAccount.client_email,
      scope: 'https://www.googleapis.com/auth/firebase.messaging',
      aud: fake.tokenUri,
      iat,
      exp: iat + 3600,
    });
    expect(fake.messages).toHaveLength(1);
    expect(fake.messages[0].message).toEqual({
      token: 'fcm-token-1',
      notification: { title: 'Carol', body: 'lunch?' },
      data: { session_type: '2', session_id: '500', server_msg_id: '77' },
      android: {
        priority: 'high',
        ttl: '86400s',
        collapse_key: '2:500',
        notification: { tag: '2:500', notification_count: 2 },
      },
      apns: {
        headers: { 'apns-priority': '10', 'apns-collapse-id': '2:500' },
        payload: { aps: { sound: 'default', badge: 2 } },
      },
    });
  });

  it('fcm - the access token is cached, and concurrent sends share one exchange', async () => {
    const p = make();
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => p.send({ ...target, token: `t${i}` }, note)),
    );
    expect(results.every((r) => r.ok)).toBe(true);
    await p.send(target, note);
    expect(p.tokenExchanges).toBe(1);
    expect(fake.tokenRequests).toHaveLength(1);
    expect(new Set(fake.messages.map((m) => m.accessToken)).size).toBe(1);
  });

  it('fcm - the access token is replaced shortly before it expires', async () => {
    const p = make({ tokenRefreshSkewMs: 300_000 });
    await p.send(target, note);
    clock += 3600_000 - 301_000;
    await p.send(target, note);
    expect(p.tokenExchanges).toBe(1);
    clock += 2000;
    await p.send(target, note);
    expect(p.tokenExchanges).toBe(2);
    expect(fake.unauthenticated).toBe(0);
    expect(fake.messages[2].accessToken).not.toBe(fake.messages[0].accessToken);
  });

  it('fcm - a 401 on a revoked token gets a new token and one retry', async () => {
    const p = make();
    await p.send(target, note);
    fake.revokeAccessTokens();
    expect(await p.send(target, note)).toEqual({ ok: true });
    expect(fake.unauthenticated).toBe(1);
    expect(p.tokenExchanges).toBe(2);
  });

  it('fcm - UNREGISTERED and an invalid registration token are permanent', async () => {
    const p = make();
    fake.unregister('gone');
    fake.invalidate('junk');
    expect(await p.send({ platform: 'fcm', token: 'gone' }, note)).toEqual({
      ok: false,
      permanent: true,
      reason: 'fcm 404 UNREGISTERED: Requested entity was not found.',
    });
    expect(await p.send({ platform: 'fcm', token: 'junk' }, note)).toMatchObject({
      ok: false,
      permanent: true,
    });
    expect(fake.messages).toHaveLength(2);
  });

  it('fcm - INVALID_ARGUMENT about the message itself is not permanent and not retried', async () => {
    fake.failNext({
      status: 400,
      errorStatus: 'INVALID_ARGUMENT',
      errorCode: 'INVALID_ARGUMENT',
      message: 'Invalid data payload',
    });
    expect(await make().send(target, note)).toEqual({
      ok: false,
      permanent: false,
      reason: 'fcm 400 INVALID_ARGUMENT: Invalid data payload',
    });
    expect(fake.messages).toHaveLength(1);
  });

  it('fcm - SENDER_ID_MISMATCH is permanent', async () => {
    fake.failNext({ status: 403, errorStatus: 'PERMISSION_DENIED', errorCode: 'SENDER_ID_MISMATCH' });
    expect(await make().send(target, note)).toMatchObject({ ok: false, permanent: true });
  });

  it('fcm - 503 and 429 are retried, honouring Retry-After', async () => {
    fake.failNext({ status: 503, errorCode: 'UNAVAILABLE' });
    fake.failNext({ status: 429, errorCode: 'QUOTA_EXCEEDED', headers: { 'retry-after': '1' } });
    const started = Date.now();
    expect(await make().send(target, note)).toEqual({ ok: true });
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(fake.messages.map((m) => m.status)).toEqual([503, 429, 200]);
  });

  it('fcm - gives up after the last attempt, keeping the token', async () => {
    fake.failNext({ status: 500, errorCode: 'INTERNAL' }, 5);
    expect(await make().send(target, note)).toEqual({
      ok: false,
      permanent: false,
      reason: 'fcm 500 INTERNAL: scripted failure (after 3 attempts)',
    });
    expect(fake.messages).toHaveLength(3);
  });

  it('fcm - a failing token endpoint is retried when transient, not when it refuses us', async () => {
    fake.failTokenEndpointNext(503);
    expect(await make().send(target, note)).toEqual({ ok: true });

    const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    }) as string;
    const refused = make({ serviceAccount: { ...fake.serviceAccount, private_key: stranger } });
    expect(await refused.send(target, note)).toMatchObject({
      ok: false,
      permanent: false,
      reason: expect.stringContaining('invalid_grant'),
    });
    expect(fake.tokenRejections).toEqual(['signature']);
  });

  it('fcm - close() ends pending sends as closed', async () => {
    fake.failNext({ status: 503 }, 10);
    const p = make({ retry: { attempts: 10, baseDelayMs: 5000, maxDelayMs: 5000 } });
    const pending = p.send(target, note);
    await waitFor(() => fake.messages.length === 1, { message: 'the first attempt did not reach FCM' });
    await p.close();
    expect(await pending).toEqual({ ok: false, permanent: false, reason: 'closed' });
  });

  it('fcm - rejects configuration it cannot use', () => {
    expect(() => make({ serviceAccount: { ...fake.serviceAccount, private_key: '' } })).toThrow(
      PushConfigError,
    );
    expect(() => make({ serviceAccount: { ...fake.serviceAccount, project_id: undefined } })).toThrow(
      /project id/,
    );
    const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    });
    expect(() => make({ serviceAccount: { ...fake.serviceAccount, private_key: ec as string } })).toThrow(
      /RSA/,
    );
  });
});
