/**
 * An echo bot for mqim (ADR 0016), as a business server would write one, with nothing but Node:
 * mqim POSTs every message a user sends the bot (`bot_message`) to this server, signed with the
 * shared secret; the bot checks the signature and answers through the send API as itself.
 *
 *   MQIM_HOOK_SECRET=… MQIM_API_URL=http://127.0.0.1:18080 MQIM_API_KEY=… ECHO_BOT_PORT=18090 \
 *     node --import tsx examples/echo-bot/echo-bot.ts
 *   curl -X PUT $MQIM_API_URL/api/v1/users/<bot user id>/bot -H "authorization: Bearer $MQIM_API_KEY" \
 *     -H 'content-type: application/json' -d '{"webhookUrl":"http://127.0.0.1:18090/bot"}'
 *
 * The answer's Idempotency-Key is derived from the delivery id, which mqim keeps the same on
 * every retry and redelivery: a message delivered twice is answered once.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface EchoBotOptions {
  /** 0 = any free port. */
  port: number;
  host?: string;
  /** MQIM_HOOK_SECRET of the mqim deployment. */
  secret: string;
  /** The mqim api, e.g. `http://127.0.0.1:18080`. */
  apiUrl: string;
  apiKey: string;
  /** Oldest signature timestamp accepted, in seconds. @default 300 */
  toleranceSec?: number;
}

export interface EchoBot {
  /** `http://<host>:<port>/bot`: the bot's webhook URL. */
  readonly url: string;
  /** Messages answered so far. */
  readonly answered: number;
  close(): Promise<void>;
}

interface BotMessage {
  id: string;
  event: string;
  data: { botUserId: number; from: number; text?: string; msgType: number };
}

function verified(
  secret: string,
  headers: IncomingMessage['headers'],
  raw: Buffer,
  toleranceSec: number,
): boolean {
  const ts = String(headers['x-mqim-timestamp'] ?? '');
  if (!/^\d+$/.test(ts) || Math.abs(Date.now() / 1000 - Number(ts)) > toleranceSec) return false;
  const expected = Buffer.from(
    `sha256=${createHmac('sha256', secret).update(`${ts}.`).update(raw).digest('hex')}`,
  );
  const given = Buffer.from(String(headers['x-mqim-signature'] ?? ''));
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export async function startEchoBot(options: EchoBotOptions): Promise<EchoBot> {
  let answered = 0;
  const answer = async (m: BotMessage): Promise<number> => {
    const res = await fetch(`${options.apiUrl}/api/v1/messages`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${options.apiKey}`,
        'content-type': 'application/json',
        // The same delivery, however often it arrives, is one answer.
        'idempotency-key': `echo-${m.id}`.slice(0, 64),
      },
      body: JSON.stringify({
        from: m.data.botUserId,
        sessionType: 1,
        to: m.data.from,
        text:
          m.data.text !== undefined ? `echo: ${m.data.text}` : `echo: a message of type ${m.data.msgType}`,
      }),
    });
    await res.text();
    return res.status;
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      if (!verified(options.secret, req.headers, raw, options.toleranceSec ?? 300)) {
        res.writeHead(401).end();
        return;
      }
      let m: BotMessage;
      try {
        m = JSON.parse(raw.toString('utf8')) as BotMessage;
      } catch {
        res.writeHead(400).end();
        return;
      }
      if (m.event !== 'bot_message') {
        res.writeHead(204).end();
        return;
      }
      answer(m).then(
        (status) => {
          // mqim retries a 5xx: an answer that failed for the api's sake is tried again.
          if (status < 500) answered++;
          res.writeHead(status < 500 ? 204 : 503).end();
        },
        () => res.writeHead(503).end(),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port, options.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}/bot`,
    get answered() {
      return answered;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

if (require.main === module) {
  const env = (name: string): string => {
    const v = process.env[name];
    if (!v) throw new Error(`${name} is required`);
    return v;
  };
  void startEchoBot({
    port: Number(process.env.ECHO_BOT_PORT ?? 18090),
    host: process.env.ECHO_BOT_HOST,
    secret: env('MQIM_HOOK_SECRET'),
    apiUrl: env('MQIM_API_URL'),
    apiKey: env('MQIM_API_KEY'),
  }).then((bot) => console.log(`echo bot listening on ${bot.url}`));
}
