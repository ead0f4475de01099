import { createLogger } from '@mqim/config';
import { RecordingPushProvider } from './testing';
import { SUMMARY_COLLAPSE_KEY } from './push.coalescer';
import { PushDispatcher, type PushDispatcherOptions } from './push.dispatcher';
import type { PushNotification, PushTarget } from './push.port';

const logger = createLogger('test', 'silent');
// Time is the subject here (coalesce window, per-user cap): the clock is jest's, moved on purpose.
const sleep = async (ms: number): Promise<void> => void (await jest.advanceTimersByTimeAsync(ms));
const msg = (userId: number, i: number, collapseKey = '1:100'): PushNotification => ({
  userId,
  title: 'Dave',
  body: `message ${i}`,
  badge: i,
  collapseKey,
  data: { server_msg_id: String(i) },
});

describe('PushDispatcher', () => {
  let apns: RecordingPushProvider;
  let fcm: RecordingPushProvider;
  let devices: Map<number, PushTarget[]>;
  let dead: Array<{ userId: number; target: PushTarget; reason: string }>;
  let dispatcher: PushDispatcher | undefined;

  const make = (o: Partial<PushDispatcherOptions> = {}): PushDispatcher => {
    dispatcher = new PushDispatcher({
      providers: [apns, fcm],
      targets: async (userId) => devices.get(userId) ?? [],
      onPermanentFailure: (userId, target, reason) => {
        dead.push({ userId, target, reason });
      },
      coalesceWindowMs: 30,
      logger,
      ...o,
    });
    return dispatcher;
  };

  beforeEach(() => {
    jest.useFakeTimers();
    apns = new RecordingPushProvider('apns');
    fcm = new RecordingPushProvider('fcm');
    devices = new Map([
      [
        1,
        [
          { platform: 'apns', token: 'iphone' },
          { platform: 'fcm', token: 'pixel' },
          { platform: 'fcm', token: 'tablet' },
        ],
      ],
      [2, [{ platform: 'fcm', token: 'user2' }]],
    ]);
    dead = [];
  });
  afterEach(async () => {
    await dispatcher?.close();
    dispatcher = undefined;
    jest.useRealTimers();
  });

  it('dispatcher - fans a push out to every device, by platform, once per token', async () => {
    devices.get(1)?.push({ platform: 'fcm', token: 'pixel' });
    const report = await make().sendNow(msg(1, 1));
    expect(report).toEqual({ userId: 1, targets: 3, delivered: 3, skipped: 0, failures: [] });
    expect(apns.sent.map((s) => s.target.token)).toEqual(['iphone']);
    expect(fcm.sent.map((s) => s.target.token).sort()).toEqual(['pixel', 'tablet']);
  });

  it('dispatcher - onReport hears each push that went out, coalesced ones with the newest data; a throw stays inside', async () => {
    const reports: Array<[string | undefined, number]> = [];
    const d = make({
      onReport: (n, report) => {
        reports.push([n.data?.server_msg_id, report.delivered]);
        throw new Error('a broken listener');
      },
    });
    for (let i = 1; i <= 3; i++) d.notify(msg(2, i));
    await sleep(60);
    await d.flush();
    expect(reports).toEqual([['3', 1]]);
    expect(fcm.sent).toHaveLength(1);
  });

  it('dispatcher - a lone notification goes out unchanged after the window', async () => {
    const d = make();
    d.notify(msg(2, 5));
    await sleep(29);
    expect(fcm.sent).toHaveLength(0);
    await sleep(1); // the 30 ms window ends: sent without a flush
    expect(fcm.sent).toEqual([{ target: { platform: 'fcm', token: 'user2' }, notification: msg(2, 5) }]);
  });

  it('dispatcher - a flood to one user inside the window becomes one summary push', async () => {
    const d = make({ coalesceWindowMs: 50 });
    for (let i = 1; i <= 40; i++) d.notify(msg(2, i));
    d.notify(msg(1, 1));
    await sleep(100);
    await d.flush();
    expect(fcm.sent.filter((s) => s.target.token === 'user2')).toHaveLength(1);
    const summary = fcm.sent.find((s) => s.target.token === 'user2')?.notification;
    expect(summary).toEqual({
      userId: 2,
      title: '40 new messages',
      body: 'Dave: message 40',
      badge: 40,
      collapseKey: '1:100',
      data: { server_msg_id: '40' },
    });
    // Another user's single message is not affected by user 2's flood.
    expect(apns.sent.map((s) => s.notification)).toEqual([msg(1, 1)]);
  });

  it('dispatcher - a summary across conversations uses the summary collapse key', async () => {
    const d = make();
    d.notify(msg(2, 1, '1:100'));
    d.notify(msg(2, 2, '2:7'));
    await sleep(60);
    await d.flush();
    expect(fcm.sent[0].notification).toMatchObject({
      title: '2 new messages',
      collapseKey: SUMMARY_COLLAPSE_KEY,
    });
  });

  it('dispatcher - caps pushes per user per interval, holding and counting the rest', async () => {
    const d = make({ coalesceWindowMs: 10, userCap: 2, userCapIntervalMs: 400 });
    const started = Date.now();
    const at: number[] = [];
    const original = fcm.send.bind(fcm);
    fcm.send = async (t, n) => {
      at.push(Date.now() - started);
      return original(t, n);
    };
    d.notify(msg(2, 1));
    await sleep(40);
    d.notify(msg(2, 2));
    await sleep(40);
    for (let i = 3; i <= 9; i++) {
      d.notify(msg(2, i));
      await sleep(20);
    }
    expect(fcm.sent).toHaveLength(2);
    await sleep(450);
    await d.flush();
    expect(fcm.sent.map((s) => s.notification.title)).toEqual(['Dave', 'Dave', '7 new messages']);
    // The third push waited for the first to age out of the interval.
    expect(at[2] - at[0]).toBeGreaterThanOrEqual(390);
  });

  it('dispatcher - flush() leaves cap-held batches waiting; close() drops them', async () => {
    const d = make({ coalesceWindowMs: 10, userCap: 1, userCapIntervalMs: 60_000 });
    d.notify(msg(2, 1));
    await sleep(30);
    d.notify(msg(2, 2));
    await d.flush();
    expect(fcm.sent).toHaveLength(1);
    await d.close();
    expect(fcm.sent).toHaveLength(1);
  });

  it('dispatcher - a throwing summarize falls back to the default summary', async () => {
    const d = make({
      summarize: () => {
        throw new Error('i18n table missing');
      },
    });
    d.notify(msg(2, 1));
    d.notify(msg(2, 2));
    await sleep(60);
    await d.flush();
    expect(fcm.sent.map((s) => s.notification.title)).toEqual(['2 new messages']);
  });

  it('dispatcher - sendNow bypasses coalescing and the cap', async () => {
    const d = make({ userCap: 1 });
    await d.sendNow(msg(2, 1));
    await d.sendNow(msg(2, 2));
    expect(fcm.sent).toHaveLength(2);
  });

  it('dispatcher - permanent failures reach the callback, transient ones do not', async () => {
    fcm.failToken('pixel');
    fcm.failToken('tablet', { ok: false, permanent: false, reason: 'fake: 503' });
    const report = await make().sendNow(msg(1, 1));
    expect(report.delivered).toBe(1);
    expect(report.failures).toEqual([
      { target: { platform: 'fcm', token: 'pixel' }, permanent: true, reason: 'fake: Unregistered' },
      { target: { platform: 'fcm', token: 'tablet' }, permanent: false, reason: 'fake: 503' },
    ]);
    expect(dead).toEqual([
      { userId: 1, target: { platform: 'fcm', token: 'pixel' }, reason: 'fake: Unregistered' },
    ]);
  });

  it('dispatcher - a throwing callback or target lookup never escapes', async () => {
    fcm.failToken('user2');
    const d = make({
      onPermanentFailure: () => {
        throw new Error('db down');
      },
    });
    await expect(d.sendNow(msg(2, 1))).resolves.toMatchObject({ failures: [{ permanent: true }] });
    const broken = make({ targets: () => Promise.reject(new Error('db down')) });
    await expect(broken.sendNow(msg(2, 1))).resolves.toMatchObject({ targets: 0, delivered: 0 });
    await d.close();
  });

  it('dispatcher - devices of an unconfigured platform are skipped, or sent to the fallback', async () => {
    const web = new RecordingPushProvider('webhook');
    const onlyApns = make({ providers: [apns] });
    expect(await onlyApns.sendNow(msg(1, 1))).toMatchObject({ targets: 3, delivered: 1, skipped: 2 });
    await onlyApns.close();

    const withFallback = make({
      providers: [new RecordingPushProvider('apns'), web],
      fallbackPlatform: 'webhook',
    });
    expect(await withFallback.sendNow(msg(1, 1))).toMatchObject({ delivered: 3, skipped: 0 });
    expect(web.sent.map((s) => s.target)).toEqual([
      { platform: 'fcm', token: 'pixel' },
      { platform: 'fcm', token: 'tablet' },
    ]);
  });

  it('dispatcher - bounds the sends in flight', async () => {
    const slow = new RecordingPushProvider('fcm', { delayMs: 20 });
    devices.set(
      3,
      Array.from({ length: 12 }, (_, i) => ({ platform: 'fcm' as const, token: `d${i}` })),
    );
    const d = make({ providers: [slow], maxConcurrentSends: 3 });
    const sending = d.sendNow(msg(3, 1));
    await sleep(80); // the provider's 20 ms per send, four rounds of three
    const report = await sending;
    expect(report.delivered).toBe(12);
    expect(slow.maxConcurrent).toBe(3);
  });

  it('dispatcher - close() sends what is pending, then closes the providers', async () => {
    const d = make({ coalesceWindowMs: 60_000 });
    d.notify(msg(2, 1));
    d.notify(msg(2, 2));
    await d.close();
    expect(fcm.sent.map((s) => s.notification.title)).toEqual(['2 new messages']);
    expect(apns.closed && fcm.closed).toBe(true);
    d.notify(msg(2, 3));
    expect(fcm.sent).toHaveLength(1);
  });

  it('dispatcher - without providers notify is a no-op', async () => {
    const d = make({ providers: [] });
    expect(d.platforms).toEqual([]);
    d.notify(msg(1, 1));
    await d.flush();
    expect(apns.sent).toHaveLength(0);
  });

  it('dispatcher - two providers for one platform are refused', () => {
    expect(() => make({ providers: [apns, new RecordingPushProvider('apns')] })).toThrow(
      /two push providers/,
    );
  });
});
