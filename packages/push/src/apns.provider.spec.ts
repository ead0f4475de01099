import { generateKeyPairSync } from 'node:crypto';
import { createServer as createHttp2Server } from 'node:http2';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { createLogger } from '@mqim/config';
import { startFakeApns, type FakeApns } from './testing';
import { ApnsProvider, apnsCollapseId, buildApnsPayload, type ApnsProviderOptions } from './apns.provider';
import { PushConfigError } from './push.errors';
import type { PushNotification } from './push.port';
import { waitFor } from '@mqim/testing';

const logger = createLogger('test', 'silent');
const token = 'a1b2c3d4'.repeat(8);
const target = { platform: 'apns' as const, token };
const note: PushNotification = {
  userId: 7,
  title: 'Bob',
  body: 'see you at 8',
  badge: 5,
  collapseKey: '1:42',
  data: { session_type: '1', session_id: '42', server_msg_id: '1001' },
};

describe('ApnsProvider', () => {
  let fake: FakeApns;
  let clock: number;
  /** How far APNs' clock is ahead of ours. */
  let skew: number;
  const now = (): number => clock;
  const providers: ApnsProvider[] = [];
  const make = (o: Partial<ApnsProviderOptions> = {}): ApnsProvider => {
    const p = new ApnsProvider({
      ...fake.providerOptions(),
      retry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 100 },
      logger,
      now,
      ...o,
    });
    providers.push(p);
    return p;
  };

  beforeEach(async () => {
    clock = Date.now();
    skew = 0;
    fake = await startFakeApns({ now: () => clock + skew });
  });
  afterEach(async () => {
    await Promise.all(providers.splice(0).map((p) => p.close()));
    await fake.close();
  });

  it('apns - posts to /3/device/<token> over TLS HTTP/2 with a valid ES256 token and the APNs headers', async () => {
    expect(await make().send(target, note)).toEqual({ ok: true });
    expect(fake.authFailures).toEqual([]);
    const [req] = fake.requests;
    expect(req.token).toBe(token);
    expect(req.headers[':method']).toBe('POST');
    expect(req.headers['apns-topic']).toBe(fake.bundleId);
    expect(req.headers['apns-push-type']).toBe('alert');
    expect(req.headers['apns-priority']).toBe('10');
    expect(req.headers['apns-collapse-id']).toBe('1:42');
    expect(Number(req.headers['apns-expiration'])).toBe(Math.floor(clock / 1000) + 86_400);
    expect(req.jwt.header).toEqual({ alg: 'ES256', kid: fake.keyId });
    expect(req.jwt.claims).toEqual({ iss: fake.teamId, iat: Math.floor(clock / 1000) });
    expect(req.payload).toEqual({
      aps: { alert: { title: 'Bob', body: 'see you at 8' }, badge: 5, sound: 'default' },
      session_type: '1',
      session_id: '42',
      server_msg_id: '1001',
    });
  });

  it('apns - many sends share one HTTP/2 session and one provider token', async () => {
    const p = make();
    const results = await Promise.all(Array.from({ length: 25 }, () => p.send(target, note)));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(fake.sessions).toBe(1);
    expect(p.sessionsOpened).toBe(1);
    expect(new Set(fake.requests.map((r) => r.jwt.raw)).size).toBe(1);
  });

  it('apns - replaces the provider token once it is tokenRefreshMs old', async () => {
    const p = make({ tokenRefreshMs: 50 * 60_000 });
    await p.send(target, note);
    clock += 49 * 60_000;
    await p.send(target, note);
    clock += 2 * 60_000;
    await p.send(target, note);
    const iats = fake.requests.map((r) => r.jwt.claims.iat as number);
    expect(iats[1]).toBe(iats[0]);
    expect(iats[2]).toBe(iats[0] + 51 * 60);
    expect(fake.authFailures).toEqual([]);
  });

  it('apns - ExpiredProviderToken mints a new token and retries at once', async () => {
    const p = make({ tokenRefreshMs: 59 * 60_000 });
    await p.send(target, note);
    // Our token is 30 min old by our clock, 61 by Apple's (skew): APNs calls it expired.
    clock += 30 * 60_000;
    skew = 31 * 60_000;
    expect(await p.send(target, note)).toEqual({ ok: true });
    expect(fake.authFailures).toEqual([{ reason: 'ExpiredProviderToken' }]);
    const iats = fake.requests.map((r) => r.jwt.claims.iat as number);
    expect(iats[1] - iats[0]).toBe(30 * 60);
  });

  it('apns - ExpiredProviderToken on a young token is not retried (Apple throttles new tokens)', async () => {
    const p = make();
    await p.send(target, note);
    skew = 61 * 60_000;
    expect(await p.send(target, note)).toEqual({
      ok: false,
      permanent: false,
      reason: 'apns 403 ExpiredProviderToken',
    });
    expect(fake.authFailures).toHaveLength(1);
  });

  it('apns - a token signed by another key is refused once, without retries', async () => {
    const other = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
    const result = await make({ privateKey: other }).send(target, note);
    expect(result).toEqual({ ok: false, permanent: false, reason: 'apns 403 InvalidProviderToken' });
    expect(fake.authFailures).toEqual([{ reason: 'InvalidProviderToken' }]);
  });

  it('apns - 410 Unregistered and 400 BadDeviceToken / DeviceTokenNotForTopic are permanent', async () => {
    const p = make();
    const gone = 'ab'.repeat(32);
    const bad = 'cd'.repeat(32);
    const foreign = 'ef'.repeat(32);
    fake.rejectToken(gone);
    fake.rejectToken(bad, { status: 400, reason: 'BadDeviceToken' });
    fake.rejectToken(foreign, { status: 400, reason: 'DeviceTokenNotForTopic' });
    expect(await p.send({ platform: 'apns', token: gone }, note)).toEqual({
      ok: false,
      permanent: true,
      reason: 'apns 410 Unregistered',
    });
    expect(await p.send({ platform: 'apns', token: bad }, note)).toMatchObject({
      ok: false,
      permanent: true,
    });
    expect(await p.send({ platform: 'apns', token: foreign }, note)).toMatchObject({
      ok: false,
      permanent: true,
    });
    expect(fake.requests).toHaveLength(3);
  });

  it('apns - a token that is not hex is permanent without reaching APNs', async () => {
    const result = await make().send({ platform: 'apns', token: '../../3/device/x' }, note);
    expect(result).toMatchObject({ ok: false, permanent: true });
    expect(fake.requests).toHaveLength(0);
  });

  it('apns - 500 and 429 are retried with backoff', async () => {
    fake.failNext({ status: 500, reason: 'InternalServerError' });
    fake.failNext({ status: 429, reason: 'TooManyRequests' });
    expect(await make().send(target, note)).toEqual({ ok: true });
    expect(fake.requests.map((r) => r.status)).toEqual([500, 429, 200]);
    expect(new Set(fake.requests.map((r) => r.headers['apns-id'])).size).toBe(1);
  });

  it('apns - gives up after the last attempt, keeping the token', async () => {
    fake.failNext({ status: 503, reason: 'ServiceUnavailable' }, 5);
    const result = await make().send(target, note);
    expect(result).toEqual({
      ok: false,
      permanent: false,
      reason: 'apns 503 ServiceUnavailable (after 3 attempts)',
    });
    expect(fake.requests).toHaveLength(3);
  });

  it('apns - other 4xx fail without retry', async () => {
    fake.failNext({ status: 413, reason: 'PayloadTooLarge' });
    expect(await make().send(target, note)).toEqual({
      ok: false,
      permanent: false,
      reason: 'apns 413 PayloadTooLarge',
    });
    expect(fake.requests).toHaveLength(1);
  });

  it('apns - reconnects after GOAWAY', async () => {
    const p = make();
    expect(await p.send(target, note)).toEqual({ ok: true });
    fake.goaway();
    await new Promise((r) => setTimeout(r, 50));
    expect(await p.send(target, note)).toEqual({ ok: true });
    expect(fake.sessions).toBe(2);
    expect(fake.requests.map((r) => r.session)).toEqual([1, 2]);
  });

  it('apns - reconnects after the server drops the connection', async () => {
    const p = make();
    expect(await p.send(target, note)).toEqual({ ok: true });
    fake.disconnect();
    await new Promise((r) => setTimeout(r, 50));
    expect(await p.send(target, note)).toEqual({ ok: true });
    expect(fake.requests.map((r) => r.session)).toEqual([1, 2]);
  });

  it('apns - an http:// endpoint speaks cleartext HTTP/2 (h2c)', async () => {
    const paths: string[] = [];
    const h2c = createHttp2Server((req, res) => {
      paths.push(req.url);
      res.writeHead(200).end();
    });
    await new Promise<void>((r) => h2c.listen(0, '127.0.0.1', r));
    try {
      const endpoint = `http://127.0.0.1:${(h2c.address() as AddressInfo).port}`;
      expect(await make({ endpoint }).send(target, note)).toEqual({ ok: true });
      expect(paths).toEqual([`/3/device/${token}`]);
    } finally {
      await Promise.all(providers.splice(0).map((p) => p.close()));
      await new Promise<void>((r) => h2c.close(() => r()));
    }
  });

  it('apns - an unreachable endpoint fails after the retries', async () => {
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as AddressInfo).port;
    await new Promise<void>((r) => srv.close(() => r()));
    const result = await make({ endpoint: `https://127.0.0.1:${port}` }).send(target, note);
    expect(result).toMatchObject({
      ok: false,
      permanent: false,
      reason: expect.stringContaining('ECONNREFUSED'),
    });
  });

  it('apns - close() ends pending sends as closed', async () => {
    fake.failNext({ status: 503 }, 10);
    const p = make({ retry: { attempts: 10, baseDelayMs: 5000, maxDelayMs: 5000 } });
    const pending = p.send(target, note);
    await waitFor(() => fake.requests.length === 1, { message: 'the first attempt did not reach APNs' });
    await p.close();
    expect(await pending).toEqual({ ok: false, permanent: false, reason: 'closed' });
  });

  it('apns - rejects configuration it cannot use', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    expect(() => make({ privateKey: rsa })).toThrow(PushConfigError);
    expect(() => make({ privateKey: 'not a key' })).toThrow(/not a PEM private key/);
    expect(() => make({ teamId: '' })).toThrow(/teamId/);
    expect(() => make({ tokenRefreshMs: 60 * 60_000 })).toThrow(/60 minutes/);
  });
});

describe('APNs payload', () => {
  it('apns payload - a body too long for 4 KiB is shortened with an ellipsis', () => {
    const payload = buildApnsPayload({ ...note, body: 'é🙂'.repeat(3000) }, 'default');
    expect(Buffer.byteLength(payload)).toBeLessThanOrEqual(4096);
    const body = (JSON.parse(payload) as { aps: { alert: { body: string } } }).aps.alert.body;
    expect(body.endsWith('…')).toBe(true);
    expect(body.length).toBeGreaterThan(500);
    expect(body).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/); // no split surrogate pair
  });

  it('apns payload - a collapse key longer than 64 bytes is hashed, stably', () => {
    expect(apnsCollapseId('1:42')).toBe('1:42');
    const long = `group:${'x'.repeat(100)}`;
    expect(apnsCollapseId(long)).toHaveLength(64);
    expect(apnsCollapseId(long)).toBe(apnsCollapseId(long));
    expect(apnsCollapseId(long)).not.toBe(apnsCollapseId(`${long}y`));
  });

  it('apns payload - data cannot overwrite aps, and no sound when silent', () => {
    const payload = JSON.parse(buildApnsPayload({ ...note, data: { aps: 'x', k: 'v' } }, '')) as Record<
      string,
      unknown
    >;
    expect(payload).toEqual({ aps: { alert: { title: 'Bob', body: 'see you at 8' }, badge: 5 }, k: 'v' });
  });
});
