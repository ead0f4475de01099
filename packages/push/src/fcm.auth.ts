import type { KeyObject } from 'node:crypto';
import { signJwt } from './jwt.signer';
import { describeError, requestSignal } from './provider.lifecycle';
import { PushAuthError } from './push.errors';
import { parseRetryAfter } from './retry.policy';

export const FCM_SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';
export const GOOGLE_TOKEN_URI = 'https://oauth2.googleapis.com/token';

/** The fields of a Google service-account key file (JSON) that the OAuth flow needs. */
export interface ServiceAccount {
  client_email: string;
  private_key: string;
  private_key_id?: string;
  project_id?: string;
  token_uri?: string;
}

/**
 * OAuth2 access tokens for FCM through the service-account ("two-legged") flow: an RS256 JWT
 * assertion signed with the account's key is exchanged at the token URI for a bearer token, which
 * every send shares until shortly before it expires. Concurrent sends during a refresh wait for
 * the same exchange instead of each starting their own.
 */
export class FcmAccessTokens {
  private cached?: { token: string; expiresAtMs: number };
  private inflight?: Promise<string>;
  /** Exchanges performed so far (logs, tests). */
  exchanges = 0;

  constructor(
    private readonly account: ServiceAccount,
    private readonly key: KeyObject,
    private readonly tokenUri: string,
    private readonly options: {
      timeoutMs: number;
      refreshSkewMs: number;
      now: () => number;
      signal: AbortSignal;
    },
  ) {}

  get(): Promise<string> {
    const c = this.cached;
    if (c && this.options.now() < c.expiresAtMs - this.options.refreshSkewMs) return Promise.resolve(c.token);
    this.inflight ??= this.exchange().finally(() => (this.inflight = undefined));
    return this.inflight;
  }

  /** FCM refused `token` (revoked, clock skew): forget it so the next `get()` exchanges again. */
  invalidate(token: string): void {
    if (this.cached?.token === token) this.cached = undefined;
  }

  private async exchange(): Promise<string> {
    const iat = Math.floor(this.options.now() / 1000);
    const assertion = signJwt(
      'RS256',
      { typ: 'JWT', ...(this.account.private_key_id ? { kid: this.account.private_key_id } : {}) },
      { iss: this.account.client_email, scope: FCM_SCOPE, aud: this.tokenUri, iat, exp: iat + 3600 },
      this.key,
    );
    const form = new URLSearchParams({
      grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
      assertion,
    });
    const { signal, dispose } = requestSignal(this.options.signal, this.options.timeoutMs);
    this.exchanges++;
    try {
      let res: Response;
      let text: string;
      try {
        res = await fetch(this.tokenUri, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: form.toString(),
          signal,
        });
        text = await res.text();
      } catch (err) {
        throw new PushAuthError(`token exchange failed: ${describeError(signal.reason ?? err)}`, true);
      }
      if (!res.ok) {
        const transient = res.status === 429 || res.status >= 500;
        throw new PushAuthError(
          `token exchange ${res.status}: ${text.slice(0, 200)}`,
          transient,
          parseRetryAfter(res.headers.get('retry-after')),
        );
      }
      const body = JSON.parse(text) as { access_token?: unknown; expires_in?: unknown };
      if (typeof body.access_token !== 'string' || typeof body.expires_in !== 'number') {
        throw new PushAuthError(`token exchange: unexpected response ${text.slice(0, 200)}`, false);
      }
      this.cached = { token: body.access_token, expiresAtMs: this.options.now() + body.expires_in * 1000 };
      return body.access_token;
    } finally {
      dispose();
    }
  }
}
