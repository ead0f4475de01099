import { InvalidCacheArgumentError } from './cache.errors';
import { checkId } from './cache.args';
import type { CallRecord } from './cache.port';

/** Shared by both implementations so that they reject exactly the same calls. */
export function checkCall(call: CallRecord): void {
  checkId('creatorId', call.creatorId);
  checkId('calleeId', call.calleeId);
  checkId('startedAt', call.startedAt);
  if (call.creatorId === call.calleeId) throw new InvalidCacheArgumentError('a call needs two parties');
  if (call.channelName === '' || call.channelName.length > 128)
    throw new InvalidCacheArgumentError('channelName must be 1..128 characters');
  if (call.channelToken.length > 512) throw new InvalidCacheArgumentError('channelToken is too long');
}
