// Fakes of APNs, FCM and a webhook receiver on 127.0.0.1, and an in-memory provider. Tests only.
export {
  startFakeApns,
  type FakeApns,
  type FakeApnsOptions,
  type FakeApnsReply,
  type FakeApnsRequest,
} from './fake-apns.server';
export {
  startFakeFcm,
  type FakeFcm,
  type FakeFcmMessage,
  type FakeFcmOptions,
  type FakeFcmReply,
} from './fake-fcm.server';
export {
  startFakeWebhook,
  type FakeWebhook,
  type FakeWebhookOptions,
  type FakeWebhookReply,
  type FakeWebhookRequest,
} from './fake-webhook.server';
export { RecordingPushProvider } from './recording.provider';
export { generateSelfSignedCert, type SelfSignedCert } from './self-signed.cert';
