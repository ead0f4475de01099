import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@mqim/config';
import {
  startFakeApns,
  startFakeFcm,
  startFakeWebhook,
  type FakeApns,
  type FakeFcm,
  type FakeWebhook,
} from './testing';
import { PushConfigError } from './push.errors';
import { createPushDispatcher } from './push.factory';
import type { PushTarget } from './push.port';

const logger = createLogger('test', 'silent');

describe('createPushDispatcher', () => {
  let dir: string;
  let apns: FakeApns;
  let fcm: FakeFcm;
  let webhook: FakeWebhook;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mqim-push-factory-'));
    [apns, fcm, webhook] = await Promise.all([startFakeApns(), startFakeFcm(), startFakeWebhook()]);
  });
  afterAll(async () => {
    await Promise.all([apns.close(), fcm.close(), webhook.close()]);
    await rm(dir, { recursive: true, force: true });
  });

  it('factory - builds every configured provider from files and sends through each', async () => {
    const targets: PushTarget[] = [
      { platform: 'apns', token: 'ab'.repeat(32) },
      { platform: 'fcm', token: 'fcm-1' },
      { platform: 'webhook', token: 'wh-1' },
    ];
    const d = createPushDispatcher(
      {
        apns: await apns.writeConfig(join(dir, 'apns')),
        fcm: await fcm.writeConfig(join(dir, 'fcm')),
        webhook: { url: webhook.url, secret: webhook.secret, deadLetterFile: join(dir, 'dead.jsonl') },
      },
      { targets: async () => targets, logger },
    );
    try {
      expect([...d.platforms].sort()).toEqual(['apns', 'fcm', 'webhook']);
      const report = await d.sendNow({ userId: 1, title: 't', body: 'b' });
      expect(report).toMatchObject({ targets: 3, delivered: 3, failures: [] });
      expect(apns.requests).toHaveLength(1);
      expect(fcm.messages).toHaveLength(1);
      expect(webhook.delivered).toHaveLength(1);
    } finally {
      await d.close();
    }
  });

  it('factory - only configured providers are built; empty sections count as absent', async () => {
    const d = createPushDispatcher(
      {
        webhook: { url: webhook.url, secret: webhook.secret, fallback: false },
        apns: { keyId: '', teamId: '', bundleId: '', keyFile: '' },
        fcm: {},
      },
      { targets: async () => [{ platform: 'fcm', token: 'x' }], logger },
    );
    try {
      expect(d.platforms).toEqual(['webhook']);
      expect(await d.sendNow({ userId: 1, title: 't', body: 'b' })).toMatchObject({ skipped: 1 });
    } finally {
      await d.close();
    }
    const none = createPushDispatcher({}, { targets: async () => [], logger });
    expect(none.platforms).toEqual([]);
    await none.close();
  });

  it('factory - the webhook is the fallback for unconfigured platforms by default', async () => {
    const before = webhook.delivered.length;
    const d = createPushDispatcher(
      { webhook: { url: webhook.url, secret: webhook.secret } },
      { targets: async () => [{ platform: 'apns', token: 'cd'.repeat(32) }], logger },
    );
    try {
      expect(await d.sendNow({ userId: 5, title: 't', body: 'b' })).toMatchObject({ delivered: 1 });
      expect(webhook.delivered[before].target).toEqual({ platform: 'apns', token: 'cd'.repeat(32) });
    } finally {
      await d.close();
    }
  });

  it('factory - reports every problem of partly filled sections at once', async () => {
    const notJson = join(dir, 'broken.json');
    await writeFile(notJson, '{nope');
    let error: unknown;
    try {
      createPushDispatcher(
        {
          webhook: { url: 'ftp://x', secret: '' },
          apns: { keyId: 'K', bundleId: 'b', keyFile: join(dir, 'missing.p8') },
          fcm: { serviceAccountFile: notJson },
        },
        { targets: async () => [], logger },
      );
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(PushConfigError);
    const problems = (error as PushConfigError).problems;
    expect(problems).toEqual([
      'webhook secret is not set',
      'APNs teamId is not set',
      expect.stringContaining('FCM serviceAccountFile'),
    ]);
    expect((error as PushConfigError).code).toBe('IM_ERR_PUSH_CONFIG');
  });
});
