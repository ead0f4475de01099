import { createHash, randomUUID, type KeyObject } from 'node:crypto';
import { createLogger, type Logger } from '@mqim/config';
import { ApnsConnection } from './apns.connection';
import { ApnsTokenCache } from './apns.token';
import { loadPrivateKey } from './jwt.signer';
import { ProviderLifecycle, describeError } from './provider.lifecycle';
import { PushConfigError } from './push.errors';
import type { PushNotification, PushProvider, PushResult, PushTarget } from './push.port';
import {
  parseRetryAfter,
  resolveRetry,
  withRetry,
  type AttemptOutcome,
  type ResolvedRetry,
  type RetryOptions,
} from './retry.policy';

export const APNS_PRODUCTION = 'https://api.push.apple.com';
export const APNS_SANDBOX = 'https://api.sandbox.push.apple.com';

/** Apple's limit for a regular (non-VoIP) notification payload. */
const MAX_PAYLOAD_BYTES = 4096;
/** Apple's limit for `apns-collapse-id`. */
const MAX_COLLAPSE_ID_BYTES = 64;

/** The token was refused for good: drop it. (410 is always permanent, whatever the reason.) */
const PERMANENT_REASONS = new Set(['BadDeviceToken', 'Unregistered', 'DeviceTokenNotForTopic']);

export interface ApnsProviderOptions {
  /** The 10-character Key ID of the APNs auth key (.p8). */
  keyId: string;
  /** The 10-character Team ID the key belongs to. */
  teamId: string;
  /** The app's bundle id, sent as `apns-topic`. */
  bundleId: string;
  /** The .p8 auth key: its PEM text, or a parsed key. */
  privateKey: string | KeyObject;
  /**
   * APNs origin. {@link APNS_SANDBOX} for development builds. `http://` speaks cleartext HTTP/2
   * (h2c), which only local fakes and proxies accept.
   * @default 'https://api.push.apple.com'
   */
  endpoint?: string;
  /** Extra trusted CA certificates (PEM), e.g. the self-signed certificate of a test fake. */
  ca?: string | Buffer;
  /**
   * `apns-priority`: 10 = now, 5 = when power considerations allow.
   * @default 10
   */
  priority?: 5 | 10;
  /**
   * How long APNs keeps trying to reach an offline device (`apns-expiration` = now + this);
   * 0 means deliver now or drop.
   * @default 86400
   */
  ttlSeconds?: number;
  /** `aps.sound`; empty string for silent. @default 'default' */
  sound?: string;
  /** Per-request timeout. @default 10000 */
  timeoutMs?: number;
  /** @default { attempts: 3, baseDelayMs: 500, maxDelayMs: 10000 } */
  retry?: RetryOptions;
  /**
   * Age at which the provider token is replaced; Apple needs it between 20 and 60 minutes.
   * @default 3000000 (50 minutes)
   */
  tokenRefreshMs?: number;
  /** @default createLogger('push') */
  logger?: Logger;
  /** Clock for token ages and `apns-expiration`. @default Date.now */
  now?: () => number;
}

/**
 * APNs provider API over HTTP/2 with token-based authentication. Response mapping: 200 delivered;
 * 410, and 400 `BadDeviceToken` / `DeviceTokenNotForTopic` → permanent; 403
 * `ExpiredProviderToken` → new token, retry once; 429 and 5xx → retried with backoff; everything
 * else (InvalidProviderToken, PayloadTooLarge, BadCollapseId...) → failed without retry.
 */
export class ApnsProvider implements PushProvider {
  readonly platform = 'apns' as const;
  private readonly lifecycle = new ProviderLifecycle();
  private readonly connection: ApnsConnection;
  private readonly tokens: ApnsTokenCache;
  private readonly retry: ResolvedRetry;
  private readonly log: Logger;
  private readonly now: () => number;

  constructor(private readonly options: ApnsProviderOptions) {
    const problems: string[] = [];
    for (const field of ['keyId', 'teamId', 'bundleId'] as const) {
      if (!options[field]) problems.push(`APNs ${field} is empty`);
    }
    const endpoint = options.endpoint ?? APNS_PRODUCTION;
    if (!/^https?:\/\/[^/]+\/?$/.test(endpoint))
      problems.push(`APNs endpoint must be an origin, got "${endpoint}"`);
    if (problems.length) throw new PushConfigError(problems);
    const refreshMs = options.tokenRefreshMs ?? 50 * 60_000;
    if (refreshMs >= 60 * 60_000) throw new PushConfigError(['APNs tokenRefreshMs must be under 60 minutes']);

    this.now = options.now ?? Date.now;
    this.log = (options.logger ?? createLogger('push')).child({ provider: 'apns' });
    const key = loadPrivateKey(options.privateKey, 'ec', 'APNs auth key');
    this.tokens = new ApnsTokenCache(
      key,
      options.keyId,
      options.teamId,
      refreshMs,
      Math.min(refreshMs, 20 * 60_000),
      this.now,
    );
    this.retry = resolveRetry(options.retry, { attempts: 3, baseDelayMs: 500, maxDelayMs: 10_000 });
    this.connection = new ApnsConnection(endpoint, options.ca ? { ca: options.ca } : {}, this.log);
  }

  /** HTTP/2 sessions opened so far (reconnects show as increments). */
  get sessionsOpened(): number {
    return this.connection.sessionsOpened;
  }

  send(target: PushTarget, notification: PushNotification): Promise<PushResult> {
    return this.lifecycle.run(() => this.deliver(target, notification));
  }

  async close(): Promise<void> {
    await this.lifecycle.close();
    await this.connection.close();
  }

  private async deliver(target: PushTarget, n: PushNotification): Promise<PushResult> {
    // Device tokens are hex; anything else is junk in our table, and must not reach the :path.
    if (!/^[0-9a-fA-F]{8,512}$/.test(target.token)) {
      return { ok: false, permanent: true, reason: 'apns: BadDeviceToken (not a hex token)' };
    }
    const body = buildApnsPayload(n, this.options.sound ?? 'default');
    const ttl = this.options.ttlSeconds ?? 86_400;
    const headers: Record<string, string> = {
      ':path': `/3/device/${target.token}`,
      'apns-topic': this.options.bundleId,
      'apns-push-type': 'alert',
      'apns-priority': String(this.options.priority ?? 10),
      'apns-expiration': ttl === 0 ? '0' : String(Math.floor(this.now() / 1000) + ttl),
      // Same id on every retry, so Apple's feedback and our logs name one notification.
      'apns-id': randomUUID(),
      'content-type': 'application/json',
    };
    if (n.collapseKey) headers['apns-collapse-id'] = apnsCollapseId(n.collapseKey);
    const { result, attempts } = await withRetry(this.retry, this.lifecycle.signal, () =>
      this.attempt(headers, body),
    );
    if (!result.ok) this.log.info({ userId: n.userId, attempts, reason: result.reason }, 'APNs push failed');
    return result;
  }

  private async attempt(headers: Record<string, string>, body: string): Promise<AttemptOutcome> {
    const jwt = this.tokens.current();
    let res;
    try {
      res = await this.connection.request(
        { ...headers, authorization: `bearer ${jwt}` },
        body,
        this.options.timeoutMs ?? 10_000,
        this.lifecycle.signal,
      );
    } catch (err) {
      return { kind: 'retry', reason: `apns: ${describeError(err)}` };
    }
    if (res.status === 200) return { kind: 'done', result: { ok: true } };
    const apnsReason = parseReason(res.body);
    const reason = `apns ${res.status} ${apnsReason}`;
    if (res.status === 410 || PERMANENT_REASONS.has(apnsReason)) {
      return { kind: 'done', result: { ok: false, permanent: true, reason } };
    }
    if (res.status === 403 && apnsReason === 'ExpiredProviderToken' && this.tokens.renewAfterExpiry(jwt)) {
      return { kind: 'retry', reason, immediate: true };
    }
    if (res.status === 429 || res.status >= 500) {
      return {
        kind: 'retry',
        reason,
        retryAfterMs: parseRetryAfter(headerValue(res.headers['retry-after'])),
      };
    }
    if (res.status === 403)
      this.log.error({ reason }, 'APNs refused our credentials: check keyId, teamId and key');
    return { kind: 'done', result: { ok: false, permanent: false, reason } };
  }
}

/**
 * `{aps: {alert: {title, body}, badge, sound}, ...data}`. `aps` is written last so that a data key
 * named "aps" cannot replace it. A body too long for Apple's 4 KiB limit is shortened with "…"
 * rather than having APNs refuse the whole push (PayloadTooLarge).
 */
export function buildApnsPayload(n: PushNotification, sound: string): string {
  const make = (body: string): string => {
    const aps: Record<string, unknown> = { alert: { title: n.title, body } };
    if (n.badge !== undefined) aps.badge = n.badge;
    if (sound) aps.sound = sound;
    return JSON.stringify({ ...n.data, aps });
  };
  const payload = make(n.body);
  const overflow = Buffer.byteLength(payload) - MAX_PAYLOAD_BYTES;
  if (overflow <= 0) return payload;
  // Keep whole code points (never half a surrogate pair), counting each as JSON will encode it.
  let budget = Buffer.byteLength(JSON.stringify(n.body)) - 2 - overflow - Buffer.byteLength('…');
  let kept = '';
  for (const ch of n.body) {
    budget -= Buffer.byteLength(JSON.stringify(ch)) - 2;
    if (budget < 0) break;
    kept += ch;
  }
  return make(`${kept}…`);
}

/** Keys longer than Apple accepts are hashed: still stable per conversation, always 64 bytes. */
export function apnsCollapseId(key: string): string {
  return Buffer.byteLength(key) <= MAX_COLLAPSE_ID_BYTES
    ? key
    : createHash('sha256').update(key).digest('hex');
}

function parseReason(body: string): string {
  try {
    const parsed = JSON.parse(body) as { reason?: unknown };
    if (typeof parsed.reason === 'string') return parsed.reason;
  } catch {
    // not JSON: fall through to the raw text
  }
  return body.slice(0, 100);
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
