import type { Logger } from '@mqim/config';
import { DeadLetterWriter } from './dead-letter.writer';
import { ProviderLifecycle, describeError, requestSignal } from './provider.lifecycle';
import type { PushResult } from './push.port';
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

export interface SignedWebhookOptions {
  /** Where requests are POSTed (http or https). */
  url: string;
  /** Shared HMAC secret (docs/push.md: how the receiver verifies). */
  secret: string;
  /** JSON-lines file for every request still undelivered after its last attempt; else only logged. */
  deadLetterFile?: string;
  /** Per-attempt timeout (connect + response headers + body). @default 5000 */
  timeoutMs?: number;
  /** @default { attempts: 5, baseDelayMs: 500, maxDelayMs: 30000 } */
  retry?: RetryOptions;
  logger: Logger;
  /** Names the kind in log lines (`push`, `hook`). @default 'push' */
  kind?: string;
  /** First fields of each dead letter. @default { provider: 'webhook' } */
  deadLetterTag?: Record<string, unknown>;
}

/**
 * Signed JSON POSTs with timeouts, retries and a dead letter: the machinery of the push webhook,
 * shared by every webhook mqim calls (push, observer hooks, bots; ADR 0016).
 *
 * Status mapping: 2xx delivered; 410 Gone → permanent; 408, 429 and 5xx → retried (honouring
 * `Retry-After`); any other 4xx → failed without retry. Network errors and timeouts are retried.
 * Every non-permanent final failure, shutdown included, is dead-lettered.
 */
export class SignedWebhookClient {
  private readonly lifecycle = new ProviderLifecycle();
  private readonly retry: ResolvedRetry;
  private readonly timeoutMs: number;
  private readonly deadLetters: DeadLetterWriter;
  private readonly kind: string;
  private readonly tag: Record<string, unknown>;

  constructor(private readonly options: SignedWebhookOptions) {
    const problems: string[] = [];
    if (!/^https?:\/\//.test(options.url))
      problems.push(`webhook url must be http(s)://, got "${options.url}"`);
    if (!options.secret) problems.push('webhook secret is empty');
    if (problems.length) throw new PushConfigError(problems);
    this.retry = resolveRetry(options.retry, { attempts: 5, baseDelayMs: 500, maxDelayMs: 30_000 });
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.kind = options.kind ?? 'push';
    this.tag = options.deadLetterTag ?? { provider: 'webhook' };
    this.deadLetters = new DeadLetterWriter(options.deadLetterFile, options.logger, this.kind);
  }

  get url(): string {
    return this.options.url;
  }

  /**
   * POSTs `body` (already JSON) under delivery id `id` (the same on every retry, for the
   * receiver's de-duplication) until it is delivered or given up; a given-up request is
   * dead-lettered with `payload` and logged with `summary` only (no content in logs). `target`
   * sends it elsewhere than the client's URL, signed with another secret (a bot's own).
   */
  post(
    id: string,
    body: string,
    payload: unknown,
    summary: Record<string, unknown>,
    target: { url?: string; secret?: string } = {},
  ): Promise<PushResult> {
    const url = target.url ?? this.options.url;
    const secret = target.secret || this.options.secret;
    return this.lifecycle.run(async () => {
      const { result, attempts } = await withRetry(this.retry, this.lifecycle.signal, () =>
        this.attempt(url, secret, id, body),
      );
      if (!result.ok && !result.permanent) {
        await this.deadLetters.write(
          { ...this.tag, url, attempts, reason: result.reason, payload },
          { id, ...summary, attempts, reason: result.reason },
        );
      }
      return result;
    });
  }

  close(): Promise<void> {
    return this.lifecycle.close();
  }

  private async attempt(url: string, secret: string, id: string, body: string): Promise<AttemptOutcome> {
    // Signed per attempt: a retry after a long backoff must still pass the receiver's freshness check.
    const timestamp = Math.floor(Date.now() / 1000);
    const { signal, dispose } = requestSignal(this.lifecycle.signal, this.timeoutMs);
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [WEBHOOK_TIMESTAMP_HEADER]: String(timestamp),
          [WEBHOOK_SIGNATURE_HEADER]: signWebhook(secret, timestamp, body),
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
