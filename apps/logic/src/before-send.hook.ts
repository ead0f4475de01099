import { randomUUID } from 'node:crypto';
import type { Logger } from '@mqim/config';
import {
  signWebhook,
  WEBHOOK_DELIVERY_HEADER,
  WEBHOOK_SIGNATURE_HEADER,
  WEBHOOK_TIMESTAMP_HEADER,
} from '@mqim/push';

export interface BeforeSendHookOptions {
  url: string;
  /** HMAC key of the `x-mqim-signature` header (as the push webhook signs). */
  secret: string;
  /** The latency budget: past it the hook counts as failed. */
  budgetMs: number;
  /** On failure (timeout, network, non-2xx, bad answer): allow the message (open) or refuse it (closed). */
  failOpen: boolean;
}

/** What a send looks like to the hook. */
export interface HookedMessage {
  fromUserId: number;
  sessionType: number;
  toSessionId: number;
  clientMsgId: string;
  msgType: number;
  msgData: Uint8Array;
  /** Sent by the api for a system account. */
  system: boolean;
}

export type HookVerdict =
  | { action: 'allow' }
  | { action: 'refuse'; code: string; reason: string }
  | { action: 'rewrite'; msgType: number; msgData: Uint8Array }
  /** The hook failed and the policy is fail-closed. */
  | { action: 'unavailable' };

const CODE = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * The business server's say over a message before it is stored: one signed POST per first attempt
 * of a send, answered `{"action":"allow"}`, `{"action":"refuse","code":"SPAM","reason":"…"}` or
 * `{"action":"rewrite","text":"…"}` (or `"data"` base64 with an optional `"msgType"`). It runs in
 * the conversation's lane, so its latency is the conversation's latency; the budget bounds it, and
 * the fail policy says what a failed or late answer means. No retries: a retry would spend the
 * budget a second time while the sender waits.
 */
export class BeforeSendHook {
  constructor(
    private readonly options: BeforeSendHookOptions,
    private readonly logger: Logger,
  ) {}

  async check(m: HookedMessage): Promise<HookVerdict> {
    const body = JSON.stringify({
      event: 'before_send',
      fromUserId: m.fromUserId,
      sessionType: m.sessionType,
      toSessionId: m.toSessionId,
      clientMsgId: m.clientMsgId,
      msgType: m.msgType,
      ...(m.msgType === 1 ? { text: Buffer.from(m.msgData).toString('utf8') } : {}),
      data: Buffer.from(m.msgData).toString('base64'),
      system: m.system,
    });
    const ts = Math.floor(Date.now() / 1000);
    try {
      const res = await fetch(this.options.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [WEBHOOK_SIGNATURE_HEADER]: signWebhook(this.options.secret, ts, body),
          [WEBHOOK_TIMESTAMP_HEADER]: String(ts),
          [WEBHOOK_DELIVERY_HEADER]: randomUUID(),
        },
        body,
        signal: AbortSignal.timeout(this.options.budgetMs),
      });
      if (!res.ok) throw new Error(`hook answered HTTP ${res.status}`);
      return verdictOf(await res.json(), m);
    } catch (err) {
      this.logger.warn(
        { err: (err as Error).message, url: this.options.url, failOpen: this.options.failOpen },
        'before-send hook failed',
      );
      return this.options.failOpen ? { action: 'allow' } : { action: 'unavailable' };
    }
  }
}

function verdictOf(answer: unknown, m: HookedMessage): HookVerdict {
  const a = (answer ?? {}) as {
    action?: unknown;
    code?: unknown;
    reason?: unknown;
    text?: unknown;
    data?: unknown;
    msgType?: unknown;
  };
  if (a.action === 'allow') return { action: 'allow' };
  if (a.action === 'refuse') {
    const code = typeof a.code === 'string' && CODE.test(a.code) ? a.code : 'REFUSED';
    const reason = typeof a.reason === 'string' ? a.reason.slice(0, 256) : '';
    return { action: 'refuse', code, reason };
  }
  if (a.action === 'rewrite') {
    if (typeof a.text === 'string')
      return { action: 'rewrite', msgType: 1, msgData: Buffer.from(a.text, 'utf8') };
    if (typeof a.data === 'string') {
      const msgType =
        typeof a.msgType === 'number' && Number.isInteger(a.msgType) && a.msgType >= 1 && a.msgType <= 0xffff
          ? a.msgType
          : m.msgType;
      return { action: 'rewrite', msgType, msgData: Buffer.from(a.data, 'base64') };
    }
  }
  throw new Error('hook answer is not allow, refuse or rewrite');
}
