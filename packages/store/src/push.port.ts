import type { PushPlatform } from '@mqim/protocol';
import type { SessionType } from './message.port';

export type { PushPlatform };

export interface PushDevice {
  readonly userId: number;
  readonly platform: PushPlatform;
  /** APNs / FCM device token or webhook URL; ASCII, at most 512 characters. */
  readonly token: string;
  /** `CIMClientType`. */
  readonly clientType: number;
}

export interface PushDeviceRecord extends PushDevice {
  /** Unix seconds of the last registration. */
  readonly updatedAt: number;
}

/** Offline-push targets; unique per (user, platform, token). */
export interface DeviceRepository {
  /** Adds or refreshes a device (idempotent upsert). */
  register(device: PushDevice): Promise<void>;
  /** Devices of these users, grouped by user id ascending. */
  list(userIds: readonly number[]): Promise<PushDeviceRecord[]>;
  /** True when something was removed. */
  remove(userId: number, platform: PushPlatform, token: string): Promise<boolean>;
}

/** Sessions an owner muted: the push path skips them. */
export interface MuteRepository {
  /** Mutes or unmutes (idempotent). `sessionId` is from the owner's view (peer user or group). */
  set(ownerUserId: number, sessionType: SessionType, sessionId: number, muted: boolean): Promise<void>;
  isMuted(ownerUserId: number, sessionType: SessionType, sessionId: number): Promise<boolean>;
  /**
   * Which of `ownerIds` muted the session (type, sessionId), ascending. One call per message on
   * the push path: for a group pass the group id and the offline members; for a single chat the
   * sender's id and the recipient.
   */
  mutedAmong(sessionType: SessionType, sessionId: number, ownerIds: readonly number[]): Promise<number[]>;
}
