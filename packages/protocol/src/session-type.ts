import { CIM } from './generated/cim.client';

/**
 * `CIMSessionType`: who a conversation is with — the one definition every package uses (the
 * store's rows, logic's checks, the SDK's messages), as plain numbers so it can type a field.
 */
export const SessionType = {
  SINGLE: CIM.Def.CIMSessionType.SESSION_TYPE_SINGLE as 1,
  GROUP: CIM.Def.CIMSessionType.SESSION_TYPE_GROUP as 2,
} as const;
export type SessionType = (typeof SessionType)[keyof typeof SessionType];

/** Whether `value` is a session type mqim handles (single chat or group). */
export function isSessionType(value: unknown): value is SessionType {
  return value === SessionType.SINGLE || value === SessionType.GROUP;
}
