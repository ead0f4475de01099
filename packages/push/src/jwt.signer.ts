import { createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { PushConfigError } from './push.errors';

export function base64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

/**
 * A compact JWS. ES256 signatures must be the raw 64-byte r‖s (JWA, RFC 7518 §3.4), not the DER
 * that OpenSSL produces by default — APNs rejects DER with InvalidProviderToken.
 */
export function signJwt(
  alg: 'ES256' | 'RS256',
  header: Record<string, unknown>,
  claims: Record<string, unknown>,
  key: KeyObject,
): string {
  const input = `${base64url(JSON.stringify({ ...header, alg }))}.${base64url(JSON.stringify(claims))}`;
  const signature =
    alg === 'ES256'
      ? sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' })
      : sign('sha256', Buffer.from(input), key);
  return `${input}.${base64url(signature)}`;
}

/** Parses a PEM private key (a .p8 file, a service account's `private_key`), checking its type. */
export function loadPrivateKey(pem: string | KeyObject, expected: 'ec' | 'rsa', what: string): KeyObject {
  let key: KeyObject;
  try {
    key = typeof pem === 'string' ? createPrivateKey(pem) : pem;
  } catch (err) {
    throw new PushConfigError([`${what}: not a PEM private key (${(err as Error).message})`]);
  }
  if (key.type !== 'private' || key.asymmetricKeyType !== expected) {
    throw new PushConfigError([
      `${what}: expected a ${expected.toUpperCase()} private key, got ${key.asymmetricKeyType}`,
    ]);
  }
  if (expected === 'ec' && key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new PushConfigError([
      `${what}: ES256 needs a P-256 key, got ${key.asymmetricKeyDetails?.namedCurve}`,
    ]);
  }
  return key;
}
