import { createLogger, type Logger } from '@mqim/config';
import { apnsCollapseId } from './apns.provider';
import { FcmAccessTokens, GOOGLE_TOKEN_URI, type ServiceAccount } from './fcm.auth';
import { loadPrivateKey } from './jwt.signer';
import { ProviderLifecycle, describeError, requestSignal } from './provider.lifecycle';
import { PushAuthError, PushConfigError } from './push.errors';
import type { PushNotification, PushProvider, PushResult, PushTarget } from './push.port';
import {
  parseRetryAfter,
  resolveRetry,
  withRetry,
  type AttemptOutcome,
  type ResolvedRetry,
  type RetryOptions,
} from './retry.policy';

export const FCM_ENDPOINT = 'https://fcm.googleapis.com';

export interface FcmProviderOptions {
  /** The parsed service-account key file. */
  serviceAccount: ServiceAccount;
  /** Firebase project id. @default serviceAccount.project_id */
  projectId?: string;
  /** FCM origin. @default 'https://fcm.googleapis.com' */
  endpoint?: string;
  /** OAuth token endpoint. @default serviceAccount.token_uri, else 'https://oauth2.googleapis.com/token' */
  tokenUri?: string;
  /**
   * How long FCM keeps the message for an offline device (`android.ttl`, `apns-expiration`).
   * @default 86400
   */
  ttlSeconds?: number;
  /** Per-request timeout, token exchange included. @default 10000 */
  timeoutMs?: number;
  /** @default { attempts: 3, baseDelayMs: 500, maxDelayMs: 10000 } */
  retry?: RetryOptions;
  /**
   * An access token is replaced this long before it expires, so no request carries one that
   * expires in flight.
   * @default 300000
   */
  tokenRefreshSkewMs?: number;
  /** @default createLogger('push') */
  logger?: Logger;
  /** Clock for token expiry. @default Date.now */
  now?: () => number;
}

interface FcmErrorBody {
  error?: {
    code?: number;
    message?: string;
    status?: string;
    details?: Array<{ '@type'?: string; errorCode?: string; fieldViolations?: Array<{ field?: string }> }>;
  };
}

/**
 * FCM HTTP v1 (`projects.messages.send`), one request per device. Response mapping: 200 delivered;
 * `UNREGISTERED` (404), `SENDER_ID_MISMATCH` (403) and `INVALID_ARGUMENT` (400) about the token →
 * permanent; 401 → fresh access token, retry once; 429 and 5xx → retried honouring `Retry-After`;
 * anything else → failed without retry.
 */
export class FcmProvider implements PushProvider {
  readonly platform = 'fcm' as const;
  private readonly lifecycle = new ProviderLifecycle();
  private readonly tokens: FcmAccessTokens;
  private readonly sendUrl: string;
  private readonly retry: ResolvedRetry;
  private readonly timeoutMs: number;
  private readonly log: Logger;

  constructor(private readonly options: FcmProviderOptions) {
    const sa = options.serviceAccount;
    const problems: string[] = [];
    if (!sa?.client_email) problems.push('FCM service account has no client_email');
    if (!sa?.private_key) problems.push('FCM service account has no private_key');
    const projectId = options.projectId || sa?.project_id;
    if (!projectId) problems.push('FCM project id is neither configured nor in the service account');
    const endpoint = (options.endpoint ?? FCM_ENDPOINT).replace(/\/+$/, '');
    const tokenUri = options.tokenUri || sa?.token_uri || GOOGLE_TOKEN_URI;
    for (const [name, url] of [
      ['endpoint', endpoint],
      ['token URI', tokenUri],
    ]) {
      if (!/^https?:\/\//.test(url)) problems.push(`FCM ${name} must be http(s)://, got "${url}"`);
    }
    if (problems.length) throw new PushConfigError(problems);

    this.sendUrl = `${endpoint}/v1/projects/${encodeURIComponent(projectId as string)}/messages:send`;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.retry = resolveRetry(options.retry, { attempts: 3, baseDelayMs: 500, maxDelayMs: 10_000 });
    this.log = (options.logger ?? createLogger('push')).child({ provider: 'fcm' });
    const key = loadPrivateKey(sa.private_key, 'rsa', 'FCM service account private_key');
    this.tokens = new FcmAccessTokens(sa, key, tokenUri, {
      timeoutMs: this.timeoutMs,
      refreshSkewMs: options.tokenRefreshSkewMs ?? 300_000,
      now: options.now ?? Date.now,
      signal: this.lifecycle.signal,
    });
  }

  /** OAuth token exchanges performed so far. */
  get tokenExchanges(): number {
    return this.tokens.exchanges;
  }

  send(target: PushTarget, notification: PushNotification): Promise<PushResult> {
    return this.lifecycle.run(() => this.deliver(target, notification));
  }

  close(): Promise<void> {
    return this.lifecycle.close();
  }

  private async deliver(target: PushTarget, n: PushNotification): Promise<PushResult> {
    const body = JSON.stringify({
      message: buildFcmMessage(target.token, n, this.options.ttlSeconds ?? 86_400),
    });
    let authRetried = false;
    const { result, attempts } = await withRetry(this.retry, this.lifecycle.signal, async () => {
      const outcome = await this.attempt(body, !authRetried);
      if (outcome.kind === 'retry' && outcome.immediate) authRetried = true;
      return outcome;
    });
    if (!result.ok) this.log.info({ userId: n.userId, attempts, reason: result.reason }, 'FCM push failed');
    return result;
  }

  private async attempt(body: string, mayRefreshAuth: boolean): Promise<AttemptOutcome> {
    let accessToken: string;
    try {
      accessToken = await this.tokens.get();
    } catch (err) {
      if (err instanceof PushAuthError && err.transient) {
        return { kind: 'retry', reason: `fcm auth: ${err.message}`, retryAfterMs: err.retryAfterMs };
      }
      this.log.error({ err }, 'FCM token exchange refused: check the service account');
      return {
        kind: 'done',
        result: { ok: false, permanent: false, reason: `fcm auth: ${describeError(err)}` },
      };
    }
    const { signal, dispose } = requestSignal(this.lifecycle.signal, this.timeoutMs);
    let res: Response;
    let text: string;
    try {
      res = await fetch(this.sendUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${accessToken}` },
        body,
        signal,
      });
      text = await res.text();
    } catch (err) {
      return { kind: 'retry', reason: `fcm: ${describeError(signal.reason ?? err)}` };
    } finally {
      dispose();
    }
    if (res.ok) return { kind: 'done', result: { ok: true } };

    const { code, message, tokenField } = parseFcmError(text);
    const reason = `fcm ${res.status} ${code}${message ? `: ${message}` : ''}`;
    const fail = (permanent: boolean): AttemptOutcome => ({
      kind: 'done',
      result: { ok: false, permanent, reason },
    });
    if (code === 'UNREGISTERED' || code === 'SENDER_ID_MISMATCH') return fail(true);
    if (res.status === 400 && code === 'INVALID_ARGUMENT') {
      if (tokenField) return fail(true);
      this.log.error({ reason }, 'FCM rejected the message itself');
      return fail(false);
    }
    if (res.status === 401 && code !== 'THIRD_PARTY_AUTH_ERROR') {
      this.tokens.invalidate(accessToken);
      if (mayRefreshAuth) return { kind: 'retry', reason, immediate: true };
      return fail(false);
    }
    if (res.status === 429 || res.status >= 500) {
      return { kind: 'retry', reason, retryAfterMs: parseRetryAfter(res.headers.get('retry-after')) };
    }
    return fail(false);
  }
}

/**
 * The v1 message for one device. The `apns` block matters too: an FCM token may belong to an iOS
 * app, and FCM forwards these headers and `aps` fields to APNs.
 */
export function buildFcmMessage(
  token: string,
  n: PushNotification,
  ttlSeconds: number,
): Record<string, unknown> {
  const android: Record<string, unknown> = { priority: 'high', ttl: `${ttlSeconds}s` };
  if (n.collapseKey) android.collapse_key = n.collapseKey;
  // collapse_key only drops undelivered messages; `tag` makes a displayed notification with the
  // same key be replaced, as apns-collapse-id does on iOS (a recall's push replaces the message's).
  const notification: Record<string, unknown> = {};
  if (n.collapseKey) notification.tag = n.collapseKey;
  if (n.badge !== undefined) notification.notification_count = n.badge;
  if (Object.keys(notification).length > 0) android.notification = notification;
  const apnsHeaders: Record<string, string> = { 'apns-priority': '10' };
  if (n.collapseKey) apnsHeaders['apns-collapse-id'] = apnsCollapseId(n.collapseKey);
  const aps: Record<string, unknown> = { sound: 'default' };
  if (n.badge !== undefined) aps.badge = n.badge;
  const message: Record<string, unknown> = {
    token,
    notification: { title: n.title, body: n.body },
    android,
    apns: { headers: apnsHeaders, payload: { aps } },
  };
  if (n.data && Object.keys(n.data).length > 0) message.data = n.data;
  return message;
}

/**
 * The FCM-specific error code lives in `details[]` (type `google.firebase.fcm.v1.FcmError`); the
 * generic `status` is the fallback. A token problem shows as a `BadRequest` field violation on
 * `message.token`, or only in the message text on older responses.
 */
function parseFcmError(text: string): { code: string; message: string; tokenField: boolean } {
  let body: FcmErrorBody = {};
  try {
    body = JSON.parse(text) as FcmErrorBody;
  } catch {
    return { code: 'UNKNOWN', message: text.slice(0, 200), tokenField: false };
  }
  const details = body.error?.details ?? [];
  const fcm = details.find((d) => d['@type']?.endsWith('google.firebase.fcm.v1.FcmError'));
  const message = body.error?.message ?? '';
  const tokenField =
    details.some((d) => d.fieldViolations?.some((v) => v.field === 'message.token')) ||
    /registration token/i.test(message);
  return { code: fcm?.errorCode ?? body.error?.status ?? 'UNKNOWN', message, tokenField };
}
