import { generateKeyPairSync, randomUUID, verify, type KeyObject } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import {
  createSecureServer,
  type Http2Session,
  type IncomingHttpHeaders,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { ApnsProviderOptions } from '../apns.provider';
import type { PushConfig } from '../push.factory';
import { generateSelfSignedCert } from './self-signed.cert';

export interface FakeApnsReply {
  status: number;
  /** APNs `reason` (JSON body), e.g. `BadDeviceToken`, `InternalServerError`. */
  reason?: string;
  headers?: Record<string, string>;
}

/** A request that passed authentication and was answered (successfully or per script). */
export interface FakeApnsRequest {
  token: string;
  headers: IncomingHttpHeaders;
  payload: Record<string, unknown>;
  jwt: { header: Record<string, unknown>; claims: Record<string, unknown>; raw: string };
  /** 1-based index of the HTTP/2 session it arrived on. */
  session: number;
  status: number;
}

export interface FakeApnsOptions {
  /** @default 'ABC123DEFG' */
  keyId?: string;
  /** @default 'TEAM123456' */
  teamId?: string;
  /** @default 'im.mqim.test' */
  bundleId?: string;
  /** Clock used to judge token age (share one with the provider under test). @default Date.now */
  now?: () => number;
}

export interface FakeApns {
  /** `https://127.0.0.1:<port>` */
  readonly endpoint: string;
  /** PEM of the fake's self-signed certificate: pass as the provider's `ca`. */
  readonly ca: string;
  readonly keyId: string;
  readonly teamId: string;
  readonly bundleId: string;
  /** PEM of the .p8-style signing key the fake trusts. */
  readonly privateKey: string;
  /** Authenticated requests, in arrival order. */
  readonly requests: FakeApnsRequest[];
  /** Requests refused for their credentials, with the APNs reason. */
  readonly authFailures: Array<{ reason: string }>;
  /** HTTP/2 sessions accepted so far. */
  readonly sessions: number;
  /** The next `times` authenticated requests get `reply` instead of 200. */
  failNext(reply: FakeApnsReply, times?: number): void;
  /** Every request to `token` gets `reply` (default 410 Unregistered). */
  rejectToken(token: string, reply?: FakeApnsReply): void;
  /** Sends GOAWAY on every open session, as APNs does when it rotates connections. */
  goaway(): void;
  /** Destroys every open session without GOAWAY, like a connection reset. */
  disconnect(): void;
  /** Options for `new ApnsProvider(...)` pointing at this fake. */
  providerOptions(): ApnsProviderOptions;
  /** Writes the key and CA into `dir` and returns the `apns` section of a `PushConfig`. */
  writeConfig(dir: string): Promise<NonNullable<PushConfig['apns']>>;
  close(): Promise<void>;
}

/**
 * An APNs provider-API lookalike on 127.0.0.1: HTTP/2 over TLS (self-signed certificate made at
 * start), checking what Apple checks — POST /3/device/<hex>, the ES256 provider token signed by the
 * trusted key with the right kid/iss and younger than an hour, apns-topic — and answering with
 * Apple's status codes and `{"reason": ...}` bodies.
 */
export async function startFakeApns(options: FakeApnsOptions = {}): Promise<FakeApns> {
  const keyId = options.keyId ?? 'ABC123DEFG';
  const teamId = options.teamId ?? 'TEAM123456';
  const bundleId = options.bundleId ?? 'im.mqim.test';
  const now = options.now ?? Date.now;
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const tls = await generateSelfSignedCert('fake apns');
  const requests: FakeApnsRequest[] = [];
  const authFailures: Array<{ reason: string }> = [];
  const script: FakeApnsReply[] = [];
  const tokenReplies = new Map<string, FakeApnsReply>();
  const open = new Set<ServerHttp2Session>();
  const sessionIndex = new WeakMap<Http2Session, number>();
  let sessions = 0;

  const server = createSecureServer({ key: tls.key, cert: tls.cert });
  server.on('session', (s) => {
    open.add(s);
    s.on('close', () => open.delete(s));
    sessionIndex.set(s, ++sessions);
  });
  server.on('stream', (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      const session = stream.session ? (sessionIndex.get(stream.session) ?? 0) : 0;
      handle(stream, headers, Buffer.concat(chunks).toString('utf8'), session);
    });
  });

  function reply(stream: ServerHttp2Stream, r: FakeApnsReply, apnsId: string): void {
    if (stream.closed || stream.destroyed) return;
    const headers: Record<string, string | number> = { ':status': r.status, 'apns-id': apnsId, ...r.headers };
    if (r.status === 200) {
      stream.respond(headers, { endStream: true });
      return;
    }
    const body: Record<string, unknown> = { reason: r.reason ?? 'InternalServerError' };
    if (r.status === 410) body.timestamp = now();
    stream.respond({ ...headers, 'content-type': 'application/json' });
    stream.end(JSON.stringify(body));
  }

  function handle(
    stream: ServerHttp2Stream,
    headers: IncomingHttpHeaders,
    body: string,
    session: number,
  ): void {
    const apnsId = String(headers['apns-id'] ?? randomUUID());
    if (headers[':method'] !== 'POST')
      return reply(stream, { status: 405, reason: 'MethodNotAllowed' }, apnsId);
    const m = /^\/3\/device\/([0-9a-fA-F]+)$/.exec(String(headers[':path']));
    if (!m) return reply(stream, { status: 404, reason: 'BadPath' }, apnsId);
    const auth = checkProviderToken(String(headers.authorization ?? ''), publicKey, keyId, teamId, now());
    if ('reason' in auth) {
      authFailures.push({ reason: auth.reason });
      return reply(stream, { status: 403, reason: auth.reason }, apnsId);
    }
    if (headers['apns-topic'] !== bundleId) return reply(stream, { status: 400, reason: 'BadTopic' }, apnsId);
    let payload: Record<string, unknown>;
    try {
      payload = JSON.parse(body) as Record<string, unknown>;
    } catch {
      return reply(stream, { status: 400, reason: 'PayloadEmpty' }, apnsId);
    }
    const token = m[1];
    const r = tokenReplies.get(token) ?? script.shift() ?? { status: 200 };
    requests.push({ token, headers, payload, jwt: auth, session, status: r.status });
    reply(stream, r, apnsId);
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const endpoint = `https://127.0.0.1:${port}`;

  return {
    endpoint,
    ca: tls.cert,
    keyId,
    teamId,
    bundleId,
    privateKey: privateKeyPem,
    requests,
    authFailures,
    get sessions() {
      return sessions;
    },
    failNext(r, times = 1) {
      for (let i = 0; i < times; i++) script.push(r);
    },
    rejectToken(token, r = { status: 410, reason: 'Unregistered' }) {
      tokenReplies.set(token, r);
    },
    goaway() {
      for (const s of open) s.goaway();
    },
    disconnect() {
      for (const s of open) s.destroy();
    },
    providerOptions: () => ({ endpoint, ca: tls.cert, keyId, teamId, bundleId, privateKey: privateKeyPem }),
    async writeConfig(dir) {
      await mkdir(dir, { recursive: true });
      const keyFile = join(dir, `AuthKey_${keyId}.p8`);
      const caFile = join(dir, 'fake-apns-ca.pem');
      await writeFile(keyFile, privateKeyPem);
      await writeFile(caFile, tls.cert);
      return { keyId, teamId, bundleId, keyFile, caFile, endpoint };
    },
    async close() {
      for (const s of open) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Independent of the provider's signer on purpose: a test that verified with the code it tests
 * would pass a symmetric bug (wrong signature encoding, wrong claims) straight through.
 */
function checkProviderToken(
  authorization: string,
  publicKey: KeyObject,
  keyId: string,
  teamId: string,
  nowMs: number,
): { header: Record<string, unknown>; claims: Record<string, unknown>; raw: string } | { reason: string } {
  const m = /^bearer ([\w-]+)\.([\w-]+)\.([\w-]+)$/.exec(authorization);
  if (!m) return { reason: 'MissingProviderToken' };
  let header: Record<string, unknown>;
  let claims: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(m[1], 'base64url').toString('utf8')) as Record<string, unknown>;
    claims = JSON.parse(Buffer.from(m[2], 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return { reason: 'InvalidProviderToken' };
  }
  const signature = Buffer.from(m[3], 'base64url');
  const signedOk =
    header.alg === 'ES256' &&
    signature.length === 64 &&
    verify(
      'sha256',
      Buffer.from(`${m[1]}.${m[2]}`),
      { key: publicKey, dsaEncoding: 'ieee-p1363' },
      signature,
    );
  if (!signedOk || header.kid !== keyId || claims.iss !== teamId || typeof claims.iat !== 'number') {
    return { reason: 'InvalidProviderToken' };
  }
  const ageSec = nowMs / 1000 - claims.iat;
  if (ageSec >= 3600) return { reason: 'ExpiredProviderToken' };
  if (ageSec < -60) return { reason: 'InvalidProviderToken' };
  return { header, claims, raw: authorization.slice('bearer '.length) };
}
