import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WebhookPayload } from '../webhook.provider';
import { readBody, sendJson } from './http.util';

export interface FakeWebhookReply {
  status: number;
  /** Sent as the `Retry-After` header. */
  retryAfter?: string;
  body?: unknown;
}

export interface FakeWebhookRequest {
  headers: IncomingHttpHeaders;
  rawBody: string;
  /** Parsed body; undefined when it was not JSON. */
  payload?: WebhookPayload;
  /** Timestamp fresh and HMAC valid. */
  verified: boolean;
  status: number;
}

export interface FakeWebhookOptions {
  /** @default random */
  secret?: string;
  /** @default 300 */
  toleranceSec?: number;
}

export interface FakeWebhook {
  /** `http://127.0.0.1:<port>/push` */
  readonly url: string;
  readonly secret: string;
  /** Every request, verified or not. */
  readonly requests: FakeWebhookRequest[];
  /** Verified requests answered 2xx. */
  readonly delivered: WebhookPayload[];
  /** The next `times` verified requests get `reply` (e.g. 500, or 429 with Retry-After). */
  failNext(reply: FakeWebhookReply, times?: number): void;
  /** Every verified request from now on gets `reply`. */
  alwaysReply(reply: FakeWebhookReply | undefined): void;
  close(): Promise<void>;
}

/**
 * A business server's push webhook on 127.0.0.1: it verifies the timestamp and HMAC exactly as
 * docs/push.md tells receivers to (401 when they do not hold), records every request, and can be
 * scripted to fail.
 */
export async function startFakeWebhook(options: FakeWebhookOptions = {}): Promise<FakeWebhook> {
  const secret = options.secret ?? randomBytes(16).toString('hex');
  const toleranceSec = options.toleranceSec ?? 300;
  const requests: FakeWebhookRequest[] = [];
  const delivered: WebhookPayload[] = [];
  const script: FakeWebhookReply[] = [];
  let always: FakeWebhookReply | undefined;

  const server = createServer((req, res) => {
    void readBody(req).then((rawBody) => {
      const verified = verify(req.headers, rawBody);
      let payload: WebhookPayload | undefined;
      try {
        payload = JSON.parse(rawBody) as WebhookPayload;
      } catch {
        payload = undefined;
      }
      const r: FakeWebhookReply = !verified ? { status: 401 } : (script.shift() ?? always ?? { status: 204 });
      requests.push({ headers: req.headers, rawBody, payload, verified, status: r.status });
      if (verified && r.status >= 200 && r.status < 300 && payload) delivered.push(payload);
      const headers: Record<string, string> = r.retryAfter ? { 'retry-after': r.retryAfter } : {};
      if (r.status === 204) {
        res.writeHead(204, headers).end();
      } else sendJson(res, r.status, r.body ?? { status: r.status }, headers);
    });
  });

  function verify(headers: IncomingHttpHeaders, rawBody: string): boolean {
    const ts = String(headers['x-mqim-timestamp'] ?? '');
    const sig = String(headers['x-mqim-signature'] ?? '');
    if (!/^\d+$/.test(ts) || Math.abs(Date.now() / 1000 - Number(ts)) > toleranceSec) return false;
    const expected = Buffer.from(
      `sha256=${createHmac('sha256', secret).update(`${ts}.${rawBody}`).digest('hex')}`,
    );
    const given = Buffer.from(sig);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/push`;
  return {
    url,
    secret,
    requests,
    delivered,
    failNext(r, times = 1) {
      for (let i = 0; i < times; i++) script.push(r);
    },
    alwaysReply(r) {
      always = r;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
