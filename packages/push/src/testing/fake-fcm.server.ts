import { generateKeyPairSync, randomBytes, verify, type KeyObject } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { ServiceAccount } from '../fcm.auth';
import type { FcmProviderOptions } from '../fcm.provider';
import type { PushConfig } from '../push.factory';
import { readBody, sendJson } from './http.util';

const FCM_SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

export interface FakeFcmReply {
  status: number;
  /** FcmError code in `details` (UNREGISTERED, QUOTA_EXCEEDED...) and/or the generic `status`. */
  errorCode?: string;
  errorStatus?: string;
  message?: string;
  headers?: Record<string, string>;
}

export interface FakeFcmMessage {
  message: Record<string, unknown> & { token: string };
  accessToken: string;
  status: number;
}

export interface FakeFcmOptions {
  /** @default 'mqim-test' */
  projectId?: string;
  /** `expires_in` of issued access tokens. @default 3600 */
  accessTokenTtlSec?: number;
  /** Clock for assertion and access-token expiry. @default Date.now */
  now?: () => number;
}

export interface FakeFcm {
  /** `http://127.0.0.1:<port>`: the provider's `endpoint`. */
  readonly url: string;
  /** `http://127.0.0.1:<port>/token` (also the service account's `token_uri`). */
  readonly tokenUri: string;
  readonly projectId: string;
  /** A service-account key "file" whose key the fake trusts. */
  readonly serviceAccount: ServiceAccount;
  /** Authenticated messages:send requests, in order. */
  readonly messages: FakeFcmMessage[];
  /** Verified assertions exchanged at the token endpoint. */
  readonly tokenRequests: Array<{ header: Record<string, unknown>; claims: Record<string, unknown> }>;
  /** Token-endpoint requests refused, with the reason. */
  readonly tokenRejections: string[];
  /** messages:send requests refused for their access token. */
  readonly unauthenticated: number;
  /** The next `times` authenticated sends get `reply`. */
  failNext(reply: FakeFcmReply, times?: number): void;
  /** The next `times` token exchanges get HTTP `status`. */
  failTokenEndpointNext(status: number, times?: number): void;
  /** Sends to `token` get 404 UNREGISTERED. */
  unregister(token: string): void;
  /** Sends to `token` get 400 INVALID_ARGUMENT with a field violation on `message.token`. */
  invalidate(token: string): void;
  /** Every access token issued so far stops working (as if revoked). */
  revokeAccessTokens(): void;
  providerOptions(): FcmProviderOptions;
  /** Writes the service account JSON into `dir` and returns the `fcm` section of a `PushConfig`. */
  writeConfig(dir: string): Promise<NonNullable<PushConfig['fcm']>>;
  close(): Promise<void>;
}

/**
 * Google's OAuth token endpoint and FCM HTTP v1 `messages:send` on one HTTP/1.1 server on
 * 127.0.0.1. The token endpoint verifies the RS256 assertion as Google does (signature by the
 * service account's key, iss, scope, aud = token URI, exp ≤ iat + 1 h); sends need a live bearer
 * token it issued. Errors use FCM's JSON error shape.
 */
export async function startFakeFcm(options: FakeFcmOptions = {}): Promise<FakeFcm> {
  const projectId = options.projectId ?? 'mqim-test';
  const ttlSec = options.accessTokenTtlSec ?? 3600;
  const now = options.now ?? Date.now;
  const { privateKey, publicKey } = serviceAccountKeys();
  const privateKeyId = randomBytes(20).toString('hex');
  const clientEmail = `mqim-push@${projectId}.iam.gserviceaccount.com`;
  const messages: FakeFcmMessage[] = [];
  const tokenRequests: FakeFcm['tokenRequests'] = [];
  const tokenRejections: string[] = [];
  const script: FakeFcmReply[] = [];
  const tokenScript: number[] = [];
  const tokenReplies = new Map<string, FakeFcmReply>();
  const accessTokens = new Map<string, number>(); // token → expires at (ms)
  let unauthenticated = 0;
  let issued = 0;
  let tokenUri = '';

  const server = createServer((req, res) => {
    readBody(req).then(
      (body) => route(req, res, body),
      () => res.destroy(),
    );
  });

  function route(req: IncomingMessage, res: ServerResponse, body: string): void {
    const path = req.url ?? '';
    if (req.method === 'POST' && path === '/token') return token(res, body);
    if (req.method === 'POST' && path === `/v1/projects/${projectId}/messages:send`)
      return send(req, res, body);
    sendJson(res, 404, fcmError({ status: 404, errorStatus: 'NOT_FOUND', message: `no route ${path}` }));
  }

  function token(res: ServerResponse, body: string): void {
    const refuse = (why: string): void => {
      tokenRejections.push(why);
      sendJson(res, 400, { error: 'invalid_grant', error_description: why });
    };
    const scripted = tokenScript.shift();
    if (scripted !== undefined) return sendJson(res, scripted, { error: 'scripted_failure' });
    const form = new URLSearchParams(body);
    if (form.get('grant_type') !== JWT_BEARER) return refuse('grant_type');
    const checked = checkAssertion(
      form.get('assertion') ?? '',
      publicKey,
      privateKeyId,
      clientEmail,
      tokenUri,
      now(),
    );
    if (typeof checked === 'string') return refuse(checked);
    tokenRequests.push(checked);
    const accessToken = `ya29.fake-${++issued}-${randomBytes(6).toString('hex')}`;
    accessTokens.set(accessToken, now() + ttlSec * 1000);
    sendJson(res, 200, { access_token: accessToken, expires_in: ttlSec, token_type: 'Bearer' });
  }

  function send(req: IncomingMessage, res: ServerResponse, body: string): void {
    const accessToken = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
    const expiresAt = accessTokens.get(accessToken);
    if (expiresAt === undefined || expiresAt <= now()) {
      unauthenticated++;
      return sendJson(
        res,
        401,
        fcmError({
          status: 401,
          errorStatus: 'UNAUTHENTICATED',
          message: 'Request had invalid authentication credentials.',
        }),
      );
    }
    let message: FakeFcmMessage['message'];
    try {
      message = (JSON.parse(body) as { message: FakeFcmMessage['message'] }).message;
    } catch {
      return sendJson(
        res,
        400,
        fcmError({ status: 400, errorStatus: 'INVALID_ARGUMENT', message: 'Invalid JSON payload' }),
      );
    }
    const data = (message?.data ?? {}) as Record<string, unknown>;
    if (typeof message?.token !== 'string' || Object.values(data).some((v) => typeof v !== 'string')) {
      return sendJson(
        res,
        400,
        fcmError({ status: 400, errorStatus: 'INVALID_ARGUMENT', message: 'Invalid message' }),
      );
    }
    const r = tokenReplies.get(message.token) ?? script.shift() ?? { status: 200 };
    messages.push({ message, accessToken, status: r.status });
    if (r.status === 200)
      return sendJson(res, 200, { name: `projects/${projectId}/messages/${messages.length}` });
    sendJson(res, r.status, fcmError(r), r.headers);
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  tokenUri = `${url}/token`;
  const serviceAccount: ServiceAccount & { type: string; client_id: string } = {
    type: 'service_account',
    project_id: projectId,
    private_key_id: privateKeyId,
    private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    client_email: clientEmail,
    client_id: '100000000000000000000',
    token_uri: tokenUri,
  };

  return {
    url,
    tokenUri,
    projectId,
    serviceAccount,
    messages,
    tokenRequests,
    tokenRejections,
    get unauthenticated() {
      return unauthenticated;
    },
    failNext(r, times = 1) {
      for (let i = 0; i < times; i++) script.push(r);
    },
    failTokenEndpointNext(status, times = 1) {
      for (let i = 0; i < times; i++) tokenScript.push(status);
    },
    unregister(t) {
      tokenReplies.set(t, {
        status: 404,
        errorStatus: 'NOT_FOUND',
        errorCode: 'UNREGISTERED',
        message: 'Requested entity was not found.',
      });
    },
    invalidate(t) {
      tokenReplies.set(t, {
        status: 400,
        errorStatus: 'INVALID_ARGUMENT',
        errorCode: 'INVALID_ARGUMENT',
        message: 'The registration token is not a valid FCM registration token',
      });
    },
    revokeAccessTokens() {
      accessTokens.clear();
    },
    providerOptions: () => ({ serviceAccount, endpoint: url }),
    async writeConfig(dir) {
      await mkdir(dir, { recursive: true });
      const serviceAccountFile = join(dir, 'fake-fcm-service-account.json');
      await writeFile(serviceAccountFile, JSON.stringify(serviceAccount, null, 2));
      return { serviceAccountFile, endpoint: url };
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

let keys: { privateKey: KeyObject; publicKey: KeyObject } | undefined;
/** RSA-2048 generation costs ~100 ms; one key per test process is as good as one per fake. */
function serviceAccountKeys(): { privateKey: KeyObject; publicKey: KeyObject } {
  keys ??= generateKeyPairSync('rsa', { modulusLength: 2048 });
  return keys;
}

function fcmError(r: FakeFcmReply): Record<string, unknown> {
  const details: Array<Record<string, unknown>> = [];
  if (r.errorCode)
    details.push({ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode: r.errorCode });
  if (r.errorCode === 'INVALID_ARGUMENT' && /registration token/.test(r.message ?? '')) {
    details.push({
      '@type': 'type.googleapis.com/google.rpc.BadRequest',
      fieldViolations: [{ field: 'message.token', description: 'Invalid registration token' }],
    });
  }
  return {
    error: {
      code: r.status,
      message: r.message ?? 'scripted failure',
      status:
        r.errorStatus ??
        (r.status === 429 ? 'RESOURCE_EXHAUSTED' : r.status >= 500 ? 'UNAVAILABLE' : 'FAILED_PRECONDITION'),
      details,
    },
  };
}

/** Verifies an RS256 service-account assertion the way Google's token endpoint does. */
function checkAssertion(
  jwt: string,
  publicKey: KeyObject,
  keyId: string,
  clientEmail: string,
  audience: string,
  nowMs: number,
): { header: Record<string, unknown>; claims: Record<string, unknown> } | string {
  const parts = jwt.split('.');
  if (parts.length !== 3) return 'malformed assertion';
  let header: Record<string, unknown>;
  let claims: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')) as Record<string, unknown>;
    claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return 'malformed assertion';
  }
  if (header.alg !== 'RS256') return `alg ${String(header.alg)}`;
  if (header.kid !== undefined && header.kid !== keyId) return 'kid';
  if (
    !verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), publicKey, Buffer.from(parts[2], 'base64url'))
  ) {
    return 'signature';
  }
  if (claims.iss !== clientEmail) return 'iss';
  if (typeof claims.scope !== 'string' || !claims.scope.split(' ').includes(FCM_SCOPE)) return 'scope';
  if (claims.aud !== audience) return 'aud';
  const { iat, exp } = claims;
  if (typeof iat !== 'number' || typeof exp !== 'number') return 'iat/exp';
  if (exp - iat > 3600 || exp <= nowMs / 1000 || iat > nowMs / 1000 + 60) return 'iat/exp window';
  return { header, claims };
}
