/**
 * The push services a device token belongs to — one list for the api that registers tokens, the
 * store that keeps them and the push dispatcher that sends to them.
 */
export const PUSH_PLATFORMS = ['apns', 'fcm', 'webhook'] as const;
export type PushPlatform = (typeof PUSH_PLATFORMS)[number];
