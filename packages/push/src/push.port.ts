import type { PushPlatform } from '@mqim/protocol';
/**
 * The push port: how the job turns "this user missed a message" into a notification on the
 * user's phones, through Apple (APNs), Google (FCM) or the business server's own webhook.
 *
 * Offline push is a **hint**, never the source of truth: a device that misses a push still gets
 * every message through sync when it reconnects (invariant 4). So the guarantees are modest on
 * purpose — at-most-once per `send()`-attempt sequence, best effort, bounded in time — and nothing
 * upstream (MQ acks, persistence) ever waits on a push succeeding.
 */

export type { PushPlatform };

/** What the user sees, plus the ids the app needs to open the right conversation on tap. */
export interface PushNotification {
  userId: number;
  title: string;
  body: string;
  /** Absolute app-icon badge (total unread), not an increment; the newest value wins. */
  badge?: number;
  /**
   * Notifications with the same key replace each other on the device (APNs `apns-collapse-id`,
   * FCM `collapse_key`); typically the conversation.
   */
  collapseKey?: string;
  /** Small string map delivered to the app, e.g. `session_type`, `session_id`, `server_msg_id`. */
  data?: Record<string, string>;
}

/** One registered device of a user. `token` is the platform's device / registration token. */
export interface PushTarget {
  platform: PushPlatform;
  token: string;
}

/**
 * The outcome of one `send()`, after the provider's own retries.
 *
 * `permanent: true` means the platform said the token is dead (uninstalled app, token rotated,
 * token of another app): the caller should unregister it and never send to it again.
 * `permanent: false` covers everything else (outage, throttling after the last retry, a message the
 * platform refused, a provider that was closed): the token stays.
 */
export type PushResult = { ok: true } | { ok: false; permanent: boolean; reason: string };

/**
 * One push platform.
 *
 * Contract:
 * - `send()` never rejects for a delivery problem: every outcome, network errors included, is a
 *   `PushResult`. It settles within a bounded time (attempts × (request timeout + backoff)).
 * - Retries of transient failures (network, 5xx, 429 honouring `Retry-After`) happen inside
 *   `send()`, with exponential backoff and jitter and a bounded number of attempts. A retried
 *   request may reach the device twice (a response lost after delivery): pushes are hints.
 * - Sends are independent and may run concurrently; there is no ordering between them.
 * - `close()` stops retries and in-flight requests (their `send()` resolves
 *   `{ ok: false, permanent: false, reason: 'closed' }`), releases connections, and resolves once
 *   every pending `send()` has settled. `send()` after `close()` resolves the same way at once.
 */
export interface PushProvider {
  readonly platform: PushPlatform;
  send(target: PushTarget, notification: PushNotification): Promise<PushResult>;
  close(): Promise<void>;
}
