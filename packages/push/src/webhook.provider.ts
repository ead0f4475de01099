import { randomUUID } from 'node:crypto';
import { createLogger, type Logger } from '@mqim/config';
import { DeadLetterWriter } from './dead-letter.writer';
import { ProviderLifecycle, describeError, requestSignal } from './provider.lifecycle';
import type { PushNotification, PushProvider, PushResult, PushTarget } from './push.port';
import { PushConfigError } from './push.errors';
import {
  parseRetryAfter,
  resolveRetry,
  withRetry,
  type AttemptOutcome,
  type ResolvedRetry,
  type RetryOptions,
} from './retry.policy';
import {
  WEBHOOK_DELIVERY_HEADER,
  WEBHOOK_SIGNATURE_HEADER,
  WEBHOOK_TIMESTAMP_HEADER,
  signWebhook,
} from './webhook.signature';

export interface WebhookProviderOptions {
  /** Where notifications are POSTed (http or https). */
  url: string;
  /** Shared HMAC secret; see docs/push.md for how the receiver verifies. */
  secret: string;
  /**
   * JSON-lines file that receives every notification still undelivered after the last attempt.
   * Without it dead letters are only logged.
   */
  deadLetterFile?: string;
  /**
   * Per-attempt timeout (connect + response headers + body).
   * @default 5000
   */
  timeoutMs?: number;
  /** @default { attempts: 5, baseDelayMs: 500, maxDelayMs: 30000 } */
  retry?: RetryOptions;
  /** @default createLogger('push') */
  logger?: Logger;
}

/** The JSON body of every webhook request. */
export interface WebhookPayload {
  /** Same on every retry (also sent as `x-mqim-delivery`). */
  id: string;
  /** Unix ms at which the notification was first handed to the provider. */
  createdAt: number;
  /** The device; `platform` may be `apns`/`fcm` when the webhook is the dispatcher's fallback. */
  target: PushTarget;
  notification: PushNotification;
}

/**
 * Hands notifications to the business server, which forwards them through whatever vendor it uses.
 *
 * Status mapping: 2xx delivered; 410 Gone → permanent (the receiver says the token is dead);
 * 408, 429 and 5xx → retried (honouring `Retry-After`); any other 4xx → failed without retry (the
 * receiver rejected this request; resending the same bytes cannot help). Network errors and
 * timeouts are retried. Every non-permanent final failure, shutdown included, is dead-lettered.
 */
export class WebhookProvider implements PushProvider {
  readonly platform = 'webhook' as const;
  private readonly lifecycle = new ProviderLifecycle();
  private readonly retry: ResolvedRetry;
  private readonly timeoutMs: number;
  private readonly log: Logger;
  private readonly deadLetters: DeadLetterWriter;

  constructor(private readonly options: WebhookProviderOptions) {
    const problems: string[] = [];
    if (!/^https?:\/\//.test(options.url))
      problems.push(`webhook url must be http(s)://, got "${options.url}"`);
    if (!options.secret) problems.push('webhook secret is empty');
    if (problems.length) throw new PushConfigError(problems);
    this.retry = resolveRetry(options.retry, { attempts: 5, baseDelayMs: 500, maxDelayMs: 30_000 });
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.log = (options.logger ?? createLogger('push')).child({ provider: 'webhook' });
    this.deadLetters = new DeadLetterWriter(options.deadLetterFile, this.log);
  }

  send(target: PushTarget, notification: PushNotification): Promise<PushResult> {
    return this.lifecycle.run(() => this.deliver(target, notification));
  }

  close(): Promise<void> {
    return this.lifecycle.close();
  }

  private async deliver(target: PushTarget, notification: PushNotification): Promise<PushResult> {
    const payload: WebhookPayload = { id: randomUUID(), createdAt: Date.now(), target, notification };
    const body = JSON.stringify(payload);
    const { result, attempts } = await withRetry(this.retry, this.lifecycle.signal, () =>
      this.attempt(payload.id, body),
    );
    if (!result.ok && !result.permanent) {
      await this.deadLetters.write(
        { provider: 'webhook', url: this.options.url, attempts, reason: result.reason, payload },
        { id: payload.id, userId: notification.userId, attempts, reason: result.reason },
      );
    }
    return result;
  }

  private async attempt(id: string, body: string): Promise<AttemptOutcome> {
    // Signed per attempt: a retry after a long backoff must still pass the receiver's freshness check.
    const timestamp = Math.floor(Date.now() / 1000);
    const { signal, dispose } = requestSignal(this.lifecycle.signal, this.timeoutMs);
    try {
      const res = await fetch(this.options.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [WEBHOOK_TIMESTAMP_HEADER]: String(timestamp),
          [WEBHOOK_SIGNATURE_HEADER]: signWebhook(this.options.secret, timestamp, body),
          [WEBHOOK_DELIVERY_HEADER]: id,
        },
        body,
        signal,
      });
      // Read the body inside the timeout, and always: an unread body pins the pooled connection.
      const text = (await res.text()).slice(0, 200);
      const reason = `webhook ${res.status}${text ? `: ${text}` : ''}`;
      if (res.ok) return { kind: 'done', result: { ok: true } };
      if (res.status === 410) return { kind: 'done', result: { ok: false, permanent: true, reason } };
      if (res.status === 408 || res.status === 429 || res.status >= 500) {
        return { kind: 'retry', reason, retryAfterMs: parseRetryAfter(res.headers.get('retry-after')) };
      }
      return { kind: 'done', result: { ok: false, permanent: false, reason } };
    } catch (err) {
      return { kind: 'retry', reason: `webhook request failed: ${describeError(signal.reason ?? err)}` };
    } finally {
      dispose();
    }
  }
}
