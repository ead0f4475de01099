import { StoreOutcomeUnknownError, type Store } from '@mqim/store';
import type { LogicDeps } from './logic-deps';

/**
 * A write that failed must not leave a hole in the conversation's ids (invariant 3): the id goes
 * back to the counter unless the row is in the store after all (a commit whose answer was lost).
 * The counter takes it back only while it is still the newest id, so an id is never given twice;
 * exact for single chats (one lane per conversation). A group's changes take ids in another lane
 * than its sends, so there a concurrent id can make the give-back fail: a gap is better than an id
 * given twice.
 */
export async function giveBack(
  deps: LogicDeps,
  convKey: string,
  conv: Parameters<Store['messages']['maxServerMsgId']>[0],
  serverMsgId: number,
  /** Why the write failed, if it threw: a write whose outcome is unknown keeps its id. */
  failure?: unknown,
): Promise<void> {
  if (failure instanceof StoreOutcomeUnknownError) {
    // The commit may land after the check below: giving the id back could hand it out twice. A
    // retry finds the row (same id) or takes a new one (a gap, which is the lesser harm).
    deps.logger.warn({ convKey, serverMsgId }, 'write outcome unknown: server_msg_id kept');
    return;
  }
  try {
    if ((await deps.store.messages.maxServerMsgId(conv)) < serverMsgId)
      await deps.cache.sequences.release(convKey, serverMsgId);
  } catch (err) {
    deps.logger.warn(
      { err: (err as Error).message, convKey, serverMsgId },
      'could not give back a server_msg_id',
    );
  }
}
