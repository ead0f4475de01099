import { mqim } from './generated/proto';

/**
 * The records of one `im-persisted` message. A body is a `PersistedMessageBatch`
 * (never empty); logic of mqim 0.1.0 published one bare `PersistedMessage`, which decodes as
 * an *empty* batch (its fields do not match), so an empty batch from a non-empty body is read
 * the old way. Keeps tap consumers whole through a rolling upgrade and an old backlog.
 */
export function decodePersisted(body: Uint8Array): mqim.v1.IPersistedMessage[] {
  const batch = mqim.v1.PersistedMessageBatch.decode(body);
  if (batch.messages.length > 0 || body.length === 0) return batch.messages;
  return [mqim.v1.PersistedMessage.decode(body)];
}
