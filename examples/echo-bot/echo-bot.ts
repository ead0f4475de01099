/**
 * An echo bot for mqim (ADR 0016), as a business server would write one, with nothing but Node:
 * mqim POSTs every message a user sends the bot, and every user's message in the groups it is a
 * member of (`bot_message`), to this server, signed with the bot's own secret; the bot checks
 * the signature and answers through the send API as itself, in the same chat or group.
 *
 *   # 1. flag the user as a bot; the answer carries its secret, shown this once
 *   curl -X PUT $MQIM_API_URL/api/v1/users/<bot user id>/bot -H "authorization: Bearer $MQIM_API_KEY" \
 *     -H 'content-type: application/json' -d '{"webhookUrl":"http://127.0.0.1:18090/bot"}'
 *   # 2. run the bot with it
 *   ECHO_BOT_SECRET=<secret> MQIM_API_URL=http://127.0.0.1:18080 MQIM_API_KEY=… ECHO_BOT_PORT=18090 \
 *     node --import tsx examples/echo-bot/echo-bot.ts
 *
 * The answer's Idempotency-Key is derived from the delivery id, which mqim keeps the same on
 * every retry and redelivery: a message delivered twice is answered once.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How long the secret before a rotation is still accepted (webhook retries back off up to ~1 min). */
const PREVIOUS_SECRET_GRACE_MS = 10 * 60_000;

export interface EchoBotOptions {
  /** 0 = any free port. */
  port: number;
  host?: string;
  /**
   * The bot's own secret (from `PUT /users/:id/bot` or a rotation); undefined until `useSecret`.
   * A bot flagged before mqim had per-bot secrets is signed with MQIM_HOOK_SECRET instead.
   */
  secret?: string;
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
  /** Requests refused for a bad signature so far. */
  readonly refused: number;
  /**
   * Verifies with `secret` from now on (after a rotation). The previous one stays accepted for
   * 10 minutes: calls signed before the rotation may still be in flight or in retry.
   */
  useSecret(secret: string): void;
  close(): Promise<void>;
}

/** `sessionType` of a group message (CIMSessionType GROUP; the example needs nothing from mqim). */
const GROUP_SESSION = 2;

interface BotMessage {
  id: string;
  event: string;
  /** sessionType 1: a single chat with `from`; 2: a message in group `to`. */
  data: { botUserId: number; from: number; sessionType: number; to: number; text?: string; msgType: number };
}

function verified(
  secret: string | undefined,
  headers: IncomingMessage['headers'],
  raw: Buffer,
  toleranceSec: number,
): boolean {
  if (!secret) return false;
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
  let refused = 0;
  let secrets = [options.secret, undefined as string | undefined];
  let previousExpiry: NodeJS.Timeout | undefined;
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
        // In a group the answer goes to the group, in a single chat back to the sender.
        sessionType: m.data.sessionType,
        to: m.data.sessionType === GROUP_SESSION ? m.data.to : m.data.from,
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
      const tolerance = options.toleranceSec ?? 300;
      if (!secrets.some((secret) => verified(secret, req.headers, raw, tolerance))) {
        refused++;
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
    get refused() {
      return refused;
    },
    useSecret(secret: string) {
      secrets = [secret, secrets[0]];
      // The previous secret only covers calls already signed with it: after a rotation because of
      // a leak, whoever holds it must be locked out soon.
      clearTimeout(previousExpiry);
      previousExpiry = setTimeout(() => (secrets = [secrets[0], undefined]), PREVIOUS_SECRET_GRACE_MS);
      previousExpiry.unref();
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
    // A bot flagged before per-bot secrets: MQIM_HOOK_SECRET until its secret is rotated.
    secret: process.env.ECHO_BOT_SECRET || env('MQIM_HOOK_SECRET'),
    apiUrl: env('MQIM_API_URL'),
    apiKey: env('MQIM_API_KEY'),
  }).then((bot) => console.log(`echo bot listening on ${bot.url}`));
}
