import { createHmac, timingSafeEqual } from 'node:crypto';

/** `sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>` */
export const WEBHOOK_SIGNATURE_HEADER = 'x-mqim-signature';
/** Unix seconds at which this attempt was signed; part of the signed bytes. */
export const WEBHOOK_TIMESTAMP_HEADER = 'x-mqim-timestamp';
/** Same value on every retry of one notification: receivers dedupe on it. */
export const WEBHOOK_DELIVERY_HEADER = 'x-mqim-delivery';

/**
 * The timestamp is signed together with the body so that a captured request cannot be replayed
 * later with a fresh timestamp header: the receiver rejects stale timestamps, and cannot be fooled
 * into accepting an old body under a new one.
 */
export function signWebhook(secret: string, timestampSec: number, rawBody: string | Buffer): string {
  const mac = createHmac('sha256', secret).update(`${timestampSec}.`).update(rawBody).digest('hex');
  return `sha256=${mac}`;
}

export interface VerifyWebhookOptions {
  /**
   * Largest accepted distance between the signed timestamp and the receiver's clock.
   * @default 300
   */
  toleranceSec?: number;
  /** @default Date.now() */
  nowMs?: number;
}

/**
 * What a receiver does (exported so TypeScript receivers and our tests need not re-derive it):
 * check the timestamp is fresh, recompute the MAC over the raw bytes as received, compare in
 * constant time. Receivers should also remember `x-mqim-delivery` ids for the tolerance window to
 * drop exact replays inside it.
 */
export function verifyWebhook(
  secret: string,
  signature: string | undefined,
  timestamp: string | undefined,
  rawBody: string | Buffer,
  options: VerifyWebhookOptions = {},
): boolean {
  if (!signature || !timestamp || !/^\d+$/.test(timestamp)) return false;
  const ts = Number(timestamp);
  const now = (options.nowMs ?? Date.now()) / 1000;
  if (Math.abs(now - ts) > (options.toleranceSec ?? 300)) return false;
  const expected = Buffer.from(signWebhook(secret, ts, rawBody));
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
