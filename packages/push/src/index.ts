export type { PushNotification, PushPlatform, PushProvider, PushResult, PushTarget } from './push.port';
export { PushAuthError, PushConfigError } from './push.errors';
export type { RetryOptions } from './retry.policy';
export { SignedWebhookClient, type SignedWebhookOptions } from './signed-webhook.client';
export { WebhookProvider, type WebhookPayload, type WebhookProviderOptions } from './webhook.provider';
export {
  WEBHOOK_DELIVERY_HEADER,
  WEBHOOK_SIGNATURE_HEADER,
  WEBHOOK_TIMESTAMP_HEADER,
  signWebhook,
  verifyWebhook,
  type VerifyWebhookOptions,
} from './webhook.signature';
export { APNS_PRODUCTION, APNS_SANDBOX, ApnsProvider, type ApnsProviderOptions } from './apns.provider';
export { FCM_ENDPOINT, FcmProvider, type FcmProviderOptions } from './fcm.provider';
export type { ServiceAccount } from './fcm.auth';
export { PushDispatcher, type PushDispatcherOptions, type PushReport } from './push.dispatcher';
export { SUMMARY_COLLAPSE_KEY, summarizeBatch, type CoalescedBatch } from './push.coalescer';
export { createPushDispatcher, type PushConfig, type PushDispatcherDeps } from './push.factory';
