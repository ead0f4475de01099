import { assertId, assertSeconds, assertUint } from '../internal/ids';
import { SessionType, type NewMessage } from '../message.port';
import { StoreInvalidArgumentError } from '../store.errors';

/** Column limits shared by both schemas. */
export const MAX_MSG_DATA_BYTES = 65_535;
export const MAX_ATTACH_BYTES = 65_535;
const CLIENT_MSG_ID = /^[\x21-\x7e]{1,64}$/;

/** A save request after validation, defaults applied and owners deduplicated (ascending). */
export interface ValidSave {
  readonly serverMsgId: number;
  readonly clientMsgId: string;
  readonly fromUserId: number;
  readonly sessionType: SessionType;
  readonly toSessionId: number;
  readonly msgType: number;
  readonly msgData: Buffer;
  readonly attach: string;
  readonly senderClientType: number;
  readonly msgStatus: number;
  readonly createTime: number;
  readonly owners: readonly number[];
}

export function assertSessionType(value: number): SessionType {
  if (value !== SessionType.SINGLE && value !== SessionType.GROUP) {
    throw new StoreInvalidArgumentError(`session type must be 1 (single) or 2 (group), got ${String(value)}`);
  }
  return value;
}

export function assertClientMsgId(value: string): string {
  if (typeof value !== 'string' || !CLIENT_MSG_ID.test(value)) {
    throw new StoreInvalidArgumentError('client_msg_id must be 1-64 printable ASCII characters');
  }
  return value;
}

export function validateSave(message: NewMessage, owners: readonly number[]): ValidSave {
  const fromUserId = assertId(message.fromUserId, 'fromUserId');
  const toSessionId = assertId(message.toSessionId, 'toSessionId');
  const sessionType = assertSessionType(message.sessionType);
  const attach = message.attach ?? '';
  if (Buffer.byteLength(attach, 'utf8') > MAX_ATTACH_BYTES) {
    throw new StoreInvalidArgumentError(`attach is longer than ${MAX_ATTACH_BYTES} bytes`);
  }
  if (!(message.msgData instanceof Uint8Array) || message.msgData.byteLength > MAX_MSG_DATA_BYTES) {
    throw new StoreInvalidArgumentError(
      `msgData must be a Uint8Array of at most ${MAX_MSG_DATA_BYTES} bytes`,
    );
  }
  const unique = [...new Set(owners.map((o) => assertId(o, 'owner')))].sort((a, b) => a - b);
  if (unique.length === 0) throw new StoreInvalidArgumentError('a message needs at least one owner');
  if (sessionType === SessionType.SINGLE) {
    if (fromUserId === toSessionId) throw new StoreInvalidArgumentError('a single chat needs two users');
    // The per-owner session id is derived from (from, to); a third party has no view of it.
    const stranger = unique.find((o) => o !== fromUserId && o !== toSessionId);
    if (stranger !== undefined) {
      throw new StoreInvalidArgumentError(`user ${stranger} is neither sender nor peer of this single chat`);
    }
  }
  return {
    serverMsgId: assertId(message.serverMsgId, 'serverMsgId'),
    clientMsgId: assertClientMsgId(message.clientMsgId),
    fromUserId,
    sessionType,
    toSessionId,
    msgType: assertUint(message.msgType, 0xffff, 'msgType'),
    // A view on the caller's bytes, not a copy: drivers bind Buffers as BLOBs.
    msgData: Buffer.from(message.msgData.buffer, message.msgData.byteOffset, message.msgData.byteLength),
    attach,
    senderClientType: assertUint(message.senderClientType ?? 0, 0xffff, 'senderClientType'),
    msgStatus: assertUint(message.msgStatus ?? 0, 0xffff, 'msgStatus'),
    createTime: assertSeconds(message.createTime, 'createTime'),
    owners: unique,
  };
}

/** The session id of `owner`'s view of the message: the other party, or the group. */
export function sessionIdFor(
  save: Pick<ValidSave, 'sessionType' | 'fromUserId' | 'toSessionId'>,
  owner: number,
): number {
  if (save.sessionType === SessionType.GROUP) return save.toSessionId;
  return owner === save.fromUserId ? save.toSessionId : save.fromUserId;
}
