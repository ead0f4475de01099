import { createHmac } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@mqim/config';
import { startFakeWebhook, type FakeWebhook } from './testing';
import type { PushNotification } from './push.port';
import { WebhookProvider, type WebhookProviderOptions } from './webhook.provider';
import { signWebhook, verifyWebhook } from './webhook.signature';
import { waitFor } from '@mqim/testing';

const logger = createLogger('test', 'silent');
const note: PushNotification = {
  userId: 42,
  title: 'Alice',
  body: 'hi there',
  badge: 3,
  collapseKey: '1:7',
  data: { session_type: '1', session_id: '7', server_msg_id: '99' },
};
const target = { platform: 'webhook' as const, token: 'device-1' };
const fastRetry = { attempts: 3, baseDelayMs: 10, maxDelayMs: 200 };

describe('WebhookProvider', () => {
  let fake: FakeWebhook;
  let dir: string;
  const providers: WebhookProvider[] = [];
  const make = (o: Partial<WebhookProviderOptions> = {}): WebhookProvider => {
    const p = new WebhookProvider({
      url: fake.url,
      secret: fake.secret,
      deadLetterFile: join(dir, 'dead', 'push.jsonl'),
      retry: fastRetry,
      logger,
      ...o,
    });
    providers.push(p);
    return p;
  };
  const deadLetters = async (): Promise<Array<Record<string, unknown>>> => {
    const text = await readFile(join(dir, 'dead', 'push.jsonl'), 'utf8').catch(() => '');
    return text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  };

  beforeEach(async () => {
    fake = await startFakeWebhook();
    dir = await mkdtemp(join(tmpdir(), 'mqim-push-'));
  });
  afterEach(async () => {
    await Promise.all(providers.splice(0).map((p) => p.close()));
    await fake.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('webhook - posts signed JSON that the receiver verifies', async () => {
    const result = await make().send(target, note);
    expect(result).toEqual({ ok: true });
    expect(fake.requests).toHaveLength(1);
    const req = fake.requests[0];
    expect(req.verified).toBe(true);
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers['x-mqim-delivery']).toBe(req.payload?.id);
    expect(req.payload).toEqual({
      id: expect.any(String),
      createdAt: expect.any(Number),
      target,
      notification: note,
    });
    // The exported receiver-side helper agrees with the independent check of the fake.
    expect(
      verifyWebhook(
        fake.secret,
        String(req.headers['x-mqim-signature']),
        String(req.headers['x-mqim-timestamp']),
        req.rawBody,
      ),
    ).toBe(true);
  });

  it('webhook - a wrong secret is refused by the receiver and not retried', async () => {
    const result = await make({ secret: 'not-the-secret' }).send(target, note);
    expect(result).toMatchObject({ ok: false, permanent: false, reason: expect.stringContaining('401') });
    expect(fake.requests.map((r) => r.verified)).toEqual([false]);
  });

  it('webhook - retries 5xx, re-signing each attempt under one delivery id', async () => {
    fake.failNext({ status: 503 }, 2);
    const result = await make().send(target, note);
    expect(result).toEqual({ ok: true });
    expect(fake.requests.map((r) => r.status)).toEqual([503, 503, 204]);
    expect(fake.requests.every((r) => r.verified)).toBe(true);
    expect(new Set(fake.requests.map((r) => r.headers['x-mqim-delivery'])).size).toBe(1);
    expect(await deadLetters()).toEqual([]);
  });

  it('webhook - honours Retry-After on 429', async () => {
    fake.failNext({ status: 429, retryAfter: '1' });
    const started = Date.now();
    const result = await make({ retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 2000 } }).send(
      target,
      note,
    );
    expect(result).toEqual({ ok: true });
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it('webhook - a Retry-After beyond maxDelayMs ends the retries and dead-letters', async () => {
    fake.failNext({ status: 429, retryAfter: '120' });
    const result = await make().send(target, note);
    expect(result).toMatchObject({
      ok: false,
      permanent: false,
      reason: expect.stringContaining('Retry-After'),
    });
    expect(fake.requests).toHaveLength(1);
    expect(await deadLetters()).toHaveLength(1);
  });

  it('webhook - other 4xx fail at once and are dead-lettered', async () => {
    fake.failNext({ status: 400, body: { error: 'bad user' } });
    const result = await make().send(target, note);
    expect(result).toMatchObject({
      ok: false,
      permanent: false,
      reason: expect.stringContaining('bad user'),
    });
    expect(fake.requests).toHaveLength(1);
    const [entry] = await deadLetters();
    expect(entry).toMatchObject({
      provider: 'webhook',
      attempts: 1,
      payload: { target, notification: note },
    });
  });

  it('webhook - 410 Gone is a permanent failure, not a dead letter', async () => {
    fake.failNext({ status: 410 });
    const result = await make().send(target, note);
    expect(result).toMatchObject({ ok: false, permanent: true });
    expect(await deadLetters()).toEqual([]);
  });

  it('webhook - after the last attempt the notification is dead-lettered', async () => {
    fake.alwaysReply({ status: 500 });
    const p = make();
    const results = await Promise.all([p.send(target, note), p.send({ ...target, token: 'device-2' }, note)]);
    expect(results.every((r) => !r.ok && !r.permanent)).toBe(true);
    expect(fake.requests).toHaveLength(2 * fastRetry.attempts);
    const entries = await deadLetters();
    expect(entries).toHaveLength(2);
    for (const e of entries) {
      expect(e).toMatchObject({
        provider: 'webhook',
        url: fake.url,
        attempts: 3,
        reason: expect.stringContaining('500'),
      });
      expect(typeof e.at).toBe('string');
    }
    expect(entries.map((e) => (e.payload as { target: { token: string } }).target.token).sort()).toEqual([
      'device-1',
      'device-2',
    ]);
  });

  it('webhook - network errors are retried, then dead-lettered', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/push`;
    await new Promise<void>((r) => closed.close(() => r()));
    const result = await make({ url }).send(target, note);
    expect(result).toMatchObject({
      ok: false,
      permanent: false,
      reason: expect.stringContaining('after 3 attempts'),
    });
    expect(await deadLetters()).toHaveLength(1);
  });

  it('webhook - a hung receiver times out per attempt', async () => {
    const hung = createServer(() => undefined);
    await new Promise<void>((r) => hung.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(hung.address() as AddressInfo).port}/push`;
    try {
      const result = await make({ url, timeoutMs: 50, retry: { attempts: 2, baseDelayMs: 1 } }).send(
        target,
        note,
      );
      expect(result).toMatchObject({ ok: false, reason: expect.stringContaining('timed out') });
    } finally {
      hung.closeAllConnections();
      await new Promise<void>((r) => hung.close(() => r()));
    }
  });

  it('webhook - close() stops retries, resolves pending sends as closed and dead-letters them', async () => {
    fake.alwaysReply({ status: 500 });
    const p = make({ retry: { attempts: 10, baseDelayMs: 5000, maxDelayMs: 5000 } });
    const pending = p.send(target, note);
    await waitFor(() => fake.requests.length === 1, { message: 'the first attempt did not reach the hook' });
    const closing = performance.now();
    await p.close();
    expect(await pending).toEqual({ ok: false, permanent: false, reason: 'closed' });
    // Closed at once, not after the 5 s backoff the retry would otherwise wait.
    expect(performance.now() - closing).toBeLessThan(2500);
    expect(await p.send(target, note)).toEqual({ ok: false, permanent: false, reason: 'closed' });
    expect(await deadLetters()).toHaveLength(1);
    // The budget covers reaching the fake on a loaded CI machine; the bound above is what is tested.
  }, 15_000);
});

describe('webhook signature', () => {
  const secret = 's3cret';
  const body = '{"a":1}';

  it('webhook signature - is HMAC-SHA256 over "<timestamp>.<body>"', () => {
    const expected = createHmac('sha256', secret).update('1700000000.{"a":1}').digest('hex');
    expect(signWebhook(secret, 1_700_000_000, body)).toBe(`sha256=${expected}`);
  });

  it('webhook signature - rejects stale timestamps, tampered bodies and other secrets', () => {
    const nowMs = 1_700_000_000_000;
    const sig = signWebhook(secret, 1_700_000_000, body);
    expect(verifyWebhook(secret, sig, '1700000000', body, { nowMs })).toBe(true);
    expect(verifyWebhook(secret, sig, '1700000000', body, { nowMs: nowMs + 301_000 })).toBe(false);
    expect(verifyWebhook(secret, sig, '1700000001', body, { nowMs })).toBe(false);
    expect(verifyWebhook(secret, sig, '1700000000', '{"a":2}', { nowMs })).toBe(false);
    expect(verifyWebhook('other', sig, '1700000000', body, { nowMs })).toBe(false);
    expect(verifyWebhook(secret, undefined, '1700000000', body, { nowMs })).toBe(false);
  });
});
