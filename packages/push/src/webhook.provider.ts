import { randomUUID } from 'node:crypto';
import { createLogger, type Logger } from '@mqim/config';
import type { PushNotification, PushProvider, PushResult, PushTarget } from './push.port';
import type { RetryOptions } from './retry.policy';
import { SignedWebhookClient } from './signed-webhook.client';

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
  private readonly client: SignedWebhookClient;

  constructor(options: WebhookProviderOptions) {
    this.client = new SignedWebhookClient({
      url: options.url,
      secret: options.secret,
      deadLetterFile: options.deadLetterFile,
      timeoutMs: options.timeoutMs,
      retry: options.retry,
      logger: (options.logger ?? createLogger('push')).child({ provider: 'webhook' }),
    });
  }

  send(target: PushTarget, notification: PushNotification): Promise<PushResult> {
    const payload: WebhookPayload = { id: randomUUID(), createdAt: Date.now(), target, notification };
    return this.client.post(payload.id, JSON.stringify(payload), payload, { userId: notification.userId });
  }

  close(): Promise<void> {
    return this.client.close();
  }
}
