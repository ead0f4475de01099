import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '@mqim/config';
import { verifyWebhook } from '@mqim/push';
import { BeforeSendHook, type HookedMessage } from './before-send.hook';

const SECRET = 'hook-secret-0123';
const warnings: string[] = [];
const logger = { warn: (_o: unknown, msg: string) => warnings.push(msg) } as unknown as Logger;

type Answer = (body: Record<string, unknown>, res: ServerResponse) => void;

/** A business server's hook endpoint: records each request (and whether its signature verifies). */
async function startHook(answer: Answer) {
  const seen: { body: Record<string, unknown>; signed: boolean }[] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    let raw = '';
    req.on('data', (d: Buffer) => (raw += d.toString()));
    req.on('end', () => {
      const body = JSON.parse(raw) as Record<string, unknown>;
      const signed = verifyWebhook(
        SECRET,
        req.headers['x-mqim-signature'] as string,
        req.headers['x-mqim-timestamp'] as string,
        raw,
      );
      seen.push({ body, signed });
      answer(body, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return {
    url,
    seen,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

const json = (res: ServerResponse, body: unknown, status = 200) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

const message: HookedMessage = {
  fromUserId: 3,
  sessionType: 1,
  toSessionId: 4,
  clientMsgId: 'c-1',
  msgType: 1,
  msgData: Buffer.from('hello darn world'),
  system: false,
};

describe('before-send hook - allow, refuse or rewrite; the fail policy decides a failed or late answer', () => {
  const open: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((h) => h.close()));
    warnings.length = 0;
  });
  const hookWith = async (answer: Answer, failOpen = true, budgetMs = 1000) => {
    const h = await startHook(answer);
    open.push(h);
    return { h, hook: new BeforeSendHook({ url: h.url, secret: SECRET, budgetMs, failOpen }, logger) };
  };

  it('before-send - the request is signed and carries the message; allow lets it through', async () => {
    const { h, hook } = await hookWith((_b, res) => json(res, { action: 'allow' }));
    expect(await hook.check(message)).toEqual({ action: 'allow' });
    expect(h.seen).toEqual([
      {
        signed: true,
        body: expect.objectContaining({
          event: 'before_send',
          fromUserId: 3,
          toSessionId: 4,
          text: 'hello darn world',
          data: Buffer.from('hello darn world').toString('base64'),
        }),
      },
    ]);
  });

  it('before-send - refuse carries the reason code; a code with odd characters becomes REFUSED', async () => {
    const { hook } = await hookWith((b, res) =>
      json(res, { action: 'refuse', code: b.clientMsgId === 'c-1' ? 'SPAM' : 'bad code!', reason: 'links' }),
    );
    expect(await hook.check(message)).toEqual({ action: 'refuse', code: 'SPAM', reason: 'links' });
    expect(await hook.check({ ...message, clientMsgId: 'c-2' })).toEqual({
      action: 'refuse',
      code: 'REFUSED',
      reason: 'links',
    });
  });

  it('before-send - rewrite replaces the text, or the bytes and type', async () => {
    const { hook } = await hookWith((b, res) =>
      b.clientMsgId === 'c-1'
        ? json(res, { action: 'rewrite', text: String(b.text).replace('darn', '****') })
        : json(res, { action: 'rewrite', data: Buffer.from('{}').toString('base64'), msgType: 9 }),
    );
    const text = await hook.check(message);
    expect(text).toEqual({ action: 'rewrite', msgType: 1, msgData: Buffer.from('hello **** world') });
    const data = await hook.check({ ...message, clientMsgId: 'c-2' });
    expect(data).toEqual({ action: 'rewrite', msgType: 9, msgData: Buffer.from('{}') });
  });

  it('before-send - past the budget: fail-open allows, fail-closed answers unavailable, each logged', async () => {
    const slow: Answer = (_b, res) => {
      setTimeout(() => json(res, { action: 'refuse', code: 'LATE' }), 1000).unref();
    };
    const open1 = await hookWith(slow, true, 50);
    const closed = await hookWith(slow, false, 50);
    const started = Date.now();
    expect(await open1.hook.check(message)).toEqual({ action: 'allow' });
    expect(await closed.hook.check(message)).toEqual({ action: 'unavailable' });
    expect(Date.now() - started).toBeLessThan(900);
    expect(warnings).toEqual(['before-send hook failed', 'before-send hook failed']);
  });

  it('before-send - an HTTP error or an answer that is no verdict is a failure too', async () => {
    const { hook: err } = await hookWith((_b, res) => json(res, { oops: true }, 500), false);
    expect(await err.check(message)).toEqual({ action: 'unavailable' });
    const { hook: junk } = await hookWith((_b, res) => json(res, { action: 'maybe' }), false);
    expect(await junk.check(message)).toEqual({ action: 'unavailable' });
    const { hook: junkOpen } = await hookWith((_b, res) => json(res, 'allow'), true);
    expect(await junkOpen.check(message)).toEqual({ action: 'allow' });
  });
});
