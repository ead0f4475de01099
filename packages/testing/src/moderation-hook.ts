import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One before-send request as the hook saw it. */
export interface HookCall {
  body: { event: string; fromUserId: number; toSessionId: number; clientMsgId: string; text?: string };
  /** Whether `x-mqim-signature` verified with the secret. */
  signed: boolean;
}

export interface ModerationHook {
  /** `http://127.0.0.1:<port>/before-send` */
  readonly url: string;
  readonly secret: string;
  readonly calls: HookCall[];
  close(): Promise<void>;
}

/**
 * A business server's before-send endpoint, as a customer would write one: texts containing
 * "spam" are refused with code SPAM, "darn" is rewritten to "****", anything else is allowed,
 * each after `delayMs`. Checks the signature itself (HMAC-SHA256 over "<timestamp>.<body>").
 */
export async function startModerationHook(
  options: { delayMs?: number; secret?: string } = {},
): Promise<ModerationHook> {
  const secret = options.secret ?? 'moderation-secret-0123';
  const calls: HookCall[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const expected = Buffer.from(
        'sha256=' +
          createHmac('sha256', secret)
            .update(`${String(req.headers['x-mqim-timestamp'])}.`)
            .update(raw)
            .digest('hex'),
      );
      const given = Buffer.from(String(req.headers['x-mqim-signature'] ?? ''));
      const signed = given.length === expected.length && timingSafeEqual(given, expected);
      const body = JSON.parse(raw.toString('utf8')) as HookCall['body'];
      calls.push({ body, signed });
      const text = body.text ?? '';
      const verdict = !signed
        ? { action: 'refuse', code: 'UNSIGNED' }
        : text.includes('spam')
          ? { action: 'refuse', code: 'SPAM', reason: 'no advertising here' }
          : text.includes('darn')
            ? { action: 'rewrite', text: text.replace(/darn/g, '****') }
            : { action: 'allow' };
      const answer = () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(verdict));
      };
      if (options.delayMs) setTimeout(answer, options.delayMs);
      else answer();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/before-send`,
    secret,
    calls,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
