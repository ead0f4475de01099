/**
 * Contacts (migration 0004, docs/adr/0014): friendships, pending friend requests and blocks.
 *
 * Contract (checked by the contacts contract suite on every store):
 * - **Symmetric friendships.** A and B are friends in both directions or in neither; every change
 *   writes both sides in one transaction.
 * - **Idempotent.** Every call may be repeated (a redelivered request): asking twice keeps one
 *   request, accepting an accepted request answers `friends`, removing what is gone is a no-op.
 * - **Blocks win.** While either user blocks the other, no request is stored and no friendship
 *   is created; blocking ends the friendship and every request between the two.
 * - Ids are positive safe integers and a user cannot befriend or block themselves
 *   (`StoreInvalidArgumentError`).
 */
export interface ContactRepository {
  /**
   * `fromUserId` asks `toUserId`. `requested`: stored (or already pending); `friends`: they were
   * friends already, or `toUserId` had asked `fromUserId` first and this request completes the
   * pair (`accepted`); `blocked`: `toUserId` blocks `fromUserId`; `blocking`: the reverse.
   */
  request(fromUserId: number, toUserId: number, note: string): Promise<RequestOutcome>;
  /**
   * `userId` answers the request of `fromUserId`. Accepting makes them friends (`accepted`, or
   * `friends` when they were already, e.g. a retry); declining removes it (`declined`); `none`
   * when there was no such request (and, accepting, no friendship).
   */
  respond(userId: number, fromUserId: number, accept: boolean): Promise<RespondOutcome>;
  /** Ends the friendship and any request between the two; true when something was removed. */
  remove(userId: number, peerUserId: number): Promise<boolean>;
  /** Blocks (`true`) or unblocks; blocking also does `remove`. True when the block changed. */
  setBlocked(ownerUserId: number, peerUserId: number, blocked: boolean): Promise<boolean>;
  /** True when `ownerUserId` blocks `peerUserId`. */
  isBlocked(ownerUserId: number, peerUserId: number): Promise<boolean>;
  /** How `userId` stands with `peerUserId` (blocking first, then friends, then requests). */
  state(userId: number, peerUserId: number): Promise<ContactState>;
  /** The friends of `userId`, ascending, at most `limit` (1..10000). */
  friendIds(userId: number, limit: number): Promise<number[]>;
  /** Which of `peerUserIds` are friends of `userId`, ascending. */
  friendsAmong(userId: number, peerUserIds: readonly number[]): Promise<number[]>;
  /** Requests waiting for `userId` (incoming) and those it sent (outgoing), oldest first, at most `limit` each. */
  requests(
    userId: number,
    limit: number,
  ): Promise<{ incoming: FriendRequestRecord[]; outgoing: FriendRequestRecord[] }>;
  /** Whom `userId` blocks, ascending, at most `limit`. */
  blockedIds(userId: number, limit: number): Promise<number[]>;
  /**
   * Of the (owner, peer) pairs, those in which the owner blocks the peer, in input order without
   * repeats (primary-key lookups, one query per few hundred pairs).
   */
  blockingPairs(pairs: readonly (readonly [owner: number, peer: number])[]): Promise<Array<[number, number]>>;
  /** Which of `ownerUserIds` block `peerUserId`, ascending (one query; the id limit of the store applies). */
  blockersAmong(peerUserId: number, ownerUserIds: readonly number[]): Promise<number[]>;
}

export type RequestOutcome = 'requested' | 'accepted' | 'friends' | 'blocked' | 'blocking';
export type RespondOutcome = 'accepted' | 'friends' | 'declined' | 'none';
export type ContactState = 'none' | 'requested' | 'pending' | 'friends' | 'blocked';

export interface FriendRequestRecord {
  readonly fromUserId: number;
  readonly toUserId: number;
  readonly note: string;
  /** Unix seconds. */
  readonly createdAt: number;
}
