import { StoreInvalidArgumentError } from '../store.errors';

export const DEFAULT_SHARDS = 4;

export function assertShardCount(shards: number): number {
  if (!Number.isInteger(shards) || shards < 1 || shards > 1024) {
    throw new StoreInvalidArgumentError(`shards must be an integer in 1..1024, got ${String(shards)}`);
  }
  return shards;
}
