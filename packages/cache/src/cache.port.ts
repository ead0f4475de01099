/**
 * The cache port: the short-lived, rebuildable state shared by gate, logic and job — who is
 * connected where, the next id of each conversation, delivery receipts waiting to be flushed.
 *
 * Everything here may be lost at any time (the Redis of the tests keeps nothing on disk): each
 * part states how it comes back. Contracts are checked by `runCacheContract` in ./testing against
 * every implementation. All ids are safe integers; anything else is rejected with
 * `InvalidCacheArgumentError`. A backend that cannot be reached rejects with
 * `CacheUnavailableError` within a bounded time, never hangs: callers stop acking and retry.
 */

/** One live connection of a user: which gate holds it. */
export interface Route {
  userId: number;
  /** Gate instance id; must not contain `|`. Deliveries go to that gate's own topic. */
  gateId: string;
  /** Connection id, unique within its gate. */
  connId: string;
  /** CIM client type (ios, android, web...), used to pick which devices get a push. */
  clientType: number;
  /** Unix ms of the login handshake; lets a newer login of the same device win a kick race. */
  loginAt: number;
  /**
   * The id of the login token the session logged in with (never the token): revoking or rotating
   * that token ends this session. Absent for a password login. 1..64 of `[0-9A-Za-z_-]`.
   */
  tokenId?: string;
}

/**
 * User → live connections. A user has one route per connection (multi-device).
 *
 * - **Expiry.** Each route expires `ttlMs` after its last `register` / `refresh`, independently of
 *   the user's other routes. An expired route is never returned, whether or not its storage was
 *   reclaimed yet. Expiry is judged on the caller's clock, so TTLs must dwarf clock skew between
 *   hosts (heartbeat-sized TTLs of tens of seconds do).
 * - **Rebuild.** Gates own the truth: each one periodically `refresh`es all of its routes, which
 *   re-creates any that vanished (data loss, eviction) — within one sweep interval the table is
 *   whole again.
 * - **No cross-call atomicity.** A `refresh` racing an `unregister` of the same connection may
 *   re-create it; it then lives until its TTL. Deliveries to a route that is no longer there are
 *   handled by the gate (unknown connection → not delivered → offline path).
 */
export interface RouteTable {
  /** Adds or replaces the route for (gateId, connId) of `route.userId`. */
  register(route: Route, ttlMs: number): Promise<void>;
  /** Removes one connection's route; a no-op when it is not there. */
  unregister(userId: number, gateId: string, connId: string): Promise<void>;
  /**
   * A gate's heartbeat sweep: extends (or re-creates) every given route to `ttlMs` from now, in one
   * round trip however many routes (thousands per call are expected).
   */
  refresh(routes: readonly Route[], ttlMs: number): Promise<void>;
  /**
   * Live routes of many users in one round trip. Users without any live route are absent from the
   * map (never mapped to an empty array). Order within a user's routes is unspecified.
   */
  lookup(userIds: readonly number[]): Promise<Map<number, Route[]>>;
  /**
   * Drops every route held by `gateId` (a gate shutting down cleanly, or declared dead), so jobs
   * stop sending to it before the routes' TTL runs out. Routes the gate registers afterwards are
   * kept.
   */
  removeGate(gateId: string): Promise<void>;
  /**
   * Ids of the gates holding at least one live route, in no particular order. Sweepers compare
   * them with the gates whose heartbeat is alive (`PresenceRegistry`) and `removeGate` the rest.
   */
  gates(): Promise<string[]>;
  /**
   * Users with at least one live route: `total` of them, and the ids of up to `limit` (1..10000)
   * whose id is greater than `after`, ascending — page on with the last id returned. Costs a read
   * of every online user's id per call: for ops pages, not for a hot path.
   */
  online(after: number, limit: number): Promise<OnlinePage>;
}

export interface OnlinePage {
  total: number;
  userIds: number[];
}

/** What a running process says about itself in its heartbeat. */
export interface InstanceInfo {
  /** `gate`, `logic`, `job`, `api` (any non-empty string without `|`). */
  role: string;
  /** Unique within its role (a gate's is its gate id); must not contain `|`. */
  id: string;
  pid: number;
  host: string;
  /** Unix ms the process started. */
  startedAt: number;
  version: string;
  /** Where clients reach a gate (`tcp://host:port ws://host:port`), or an api's URL. */
  address?: string;
  /** Open client connections (gates). */
  connections?: number;
  /** Distinct logged-in users (gates). */
  users?: number;
}

/** A heartbeat that has not expired yet. */
export interface LiveInstance extends InstanceInfo {
  /** Unix ms of the last beat. */
  beatAt: number;
  /** Unix ms the record expires unless beaten again. */
  expiresAt: number;
}

/**
 * Which processes are alive: each one beats every few seconds with a TTL a few beats long; a
 * process whose beats stop (killed, hung, partitioned from the cache) disappears when its TTL
 * passes, however it died.
 *
 * - **Expiry** is judged on the caller's clock, as for routes: TTLs of seconds assume host clocks
 *   within well under a second of each other (NTP).
 * - **Fresh beats.** `beat` resolves `true` when no live record existed for (role, id) — the first
 *   beat, or one after the record had expired. For a gate that means sweepers may have evicted its
 *   routes meanwhile: it re-registers them at once.
 * - **Loss.** Losing the backend forgets every record until the next beats (a few seconds); a
 *   sweeper must therefore never evict on the strength of an empty list alone (see `RouteTable.gates`:
 *   a gate whose routes were lost too has nothing to evict).
 */
export interface PresenceRegistry {
  /** Writes (replaces) the record of (info.role, info.id), live for `ttlMs` from now. */
  beat(info: InstanceInfo, ttlMs: number): Promise<boolean>;
  /** Removes the record at once (a clean stop); a no-op when it is not there. */
  leave(role: string, id: string): Promise<void>;
  /** Every live record, sorted by role then id. */
  list(): Promise<LiveInstance[]>;
}

/** `count` consecutive ids, `first`..`last` inclusive, reserved for the caller alone. */
export interface SequenceRange {
  first: number;
  last: number;
}

/**
 * Returns the highest id already persisted for the key (0 for a new conversation). Called only
 * when the counter is absent.
 */
export type SequenceSeed = () => Promise<number>;

/**
 * Per-key counters for server_msg_id.
 *
 * - **Strictly increasing, atomically, across processes.** Every call gets ids no other call ever
 *   got, each greater than any id handed out before the call started.
 * - **Seeded, never restarted.** When the counter is absent (new conversation, idle counter expired,
 *   or the backend lost its data) `seed()` is asked for the highest persisted id and the counter
 *   continues from max(seed, current value) — so ids are never reissued *as long as every id
 *   handed out is persisted before the next one is requested for that key* (the per-conversation
 *   FIFO consumer guarantees that; the store's unique key catches anyone who breaks it). `seed()`
 *   is not called when the counter exists; concurrent callers that all found it absent may each
 *   call it, and still get distinct ids.
 * - A failing `seed()` rejects the call and leaves the counter as it was.
 */
export interface SequenceCounter {
  next(key: string, seed: SequenceSeed): Promise<number>;
  /** Reserves `count` (≥ 1) consecutive ids at once, same guarantees as `next`. */
  nextBatch(key: string, count: number, seed: SequenceSeed): Promise<SequenceRange>;
  /**
   * Gives `id` back if it is still the last id handed out for `key` (nobody got a later one), so
   * the next call gets it again; true if it did. Atomic with `next`. For an id whose message
   * was certainly not persisted (the store refused or failed the write): without it, each failed
   * write would leave a hole in the conversation's ids (invariant 3).
   */
  release(key: string, id: number): Promise<boolean>;
}

/** A delivery receipt: `userId` has received everything up to `serverMsgId` in that session. */
export interface ReceiptEntry {
  userId: number;
  sessionType: number;
  sessionId: number;
  serverMsgId: number;
  /** Unix ms of the receipt; the one stored is the one that came with the highest serverMsgId. */
  at: number;
}

/** One conversation of one user, as `deliveredUpToMany` asks about it. */
export type ReceiptKey = Pick<ReceiptEntry, 'userId' | 'sessionType' | 'sessionId'>;

/** What `takeDirty` handed out; give it back to `confirm` once the entries are flushed. */
export interface DirtyBatch {
  readonly entries: readonly ReceiptEntry[];
}

/**
 * Delivery receipts collected between two flushes to the store (the job batches them to MySQL).
 *
 * - **Max wins.** Per (user, sessionType, sessionId) only the highest serverMsgId is kept; a lower
 *   or equal one is ignored and does not mark the entry dirty.
 * - **Nothing lost between take and confirm.** `takeDirty` does not clear anything; `confirm`
 *   clears an entry's dirty mark only if it was not raised again since it was taken, so an update
 *   landing mid-flush is flushed next time.
 * - **Overlap is possible.** Concurrent flushers may take the same entries, and a crash between
 *   flush and confirm re-flushes them: the store write must be idempotent and monotone
 *   (`GREATEST`).
 * - **Loss.** If the backend loses its data, unflushed receipts are gone (delivery itself is not:
 *   the client syncs) and `deliveredUpTo` reads 0 until new receipts arrive. Flushed entries may
 *   also be forgotten to bound memory (Redis: per-user TTL; memory: a cap on entries).
 * - **Validated on entry.** `record` rejects the whole call if any entry has a userId, sessionId
 *   or serverMsgId that is not a positive safe integer: nothing the store refuses is buffered.
 */
export interface ReceiptBuffer {
  record(entries: readonly ReceiptEntry[]): Promise<void>;
  /** Highest recorded serverMsgId for that session, 0 if unknown. */
  deliveredUpTo(userId: number, sessionType: number, sessionId: number): Promise<number>;
  /**
   * `deliveredUpTo` of every key, in the order given, in one round trip (a push check asks it for
   * every member of a group message at once). Rejects as a whole if any key is invalid.
   */
  deliveredUpToMany(keys: readonly ReceiptKey[]): Promise<number[]>;
  /** Up to `limit` dirty entries with their current values, in no particular order. */
  takeDirty(limit: number): Promise<DirtyBatch>;
  confirm(batch: DirtyBatch): Promise<void>;
}

/** How failures on one key turn into waiting time (exponential backoff). */
export interface AttemptPolicy {
  /** Failures allowed within the window before any waiting is imposed (≥ 0). */
  freeFailures: number;
  /** The wait after the first failure beyond `freeFailures`; each further failure doubles it. */
  baseBlockMs: number;
  /** The wait never exceeds this. */
  maxBlockMs: number;
  /** A key's failures are forgotten this long after its last failure (or its wait, if longer). */
  windowMs: number;
}

/**
 * Failed-attempt counters with backoff, for login throttling per user and per address.
 *
 * - **Per key, atomic.** Concurrent `fail`s on one key (from any process) each count once.
 * - **Backoff.** After `freeFailures` failures, failure number free + k (k ≥ 1) blocks the key for
 *   min(baseBlockMs · 2^(k-1), maxBlockMs) from the moment it was recorded. The caller refuses
 *   attempts while `blockedFor` is positive (without checking them, so a blocked guess learns
 *   nothing) and records only the attempts it actually checked.
 * - **Expiry.** A key is forgotten `max(windowMs, current block)` after its last failure; `reset`
 *   forgets it at once (a successful login).
 * - **Loss.** Losing the backend forgets every counter: throttling restarts from zero, which
 *   costs an attacker nothing more than a fresh window. Keys are opaque strings of 1..256 characters.
 */
export interface AttemptThrottle {
  /** Milliseconds until an attempt on every one of `keys` is allowed again; 0 = now. */
  blockedFor(keys: readonly string[]): Promise<number>;
  /** Records one failure on `key`; returns the block it now has (0 while within free failures). */
  fail(key: string, policy: AttemptPolicy): Promise<number>;
  /** Forgets the failures recorded on `key`; a no-op when there are none. */
  reset(key: string): Promise<void>;
}

/** A token bucket's shape: it holds at most `burst` tokens and refills at `perSecond`. */
export interface RatePolicy {
  /** Tokens added per second, continuously (> 0; fractions allowed). */
  perSecond: number;
  /** Capacity, and what a new bucket holds (a positive integer). */
  burst: number;
}

/**
 * Token buckets shared by every process, for limits that must hold across the cluster (a user's
 * sends over all gates). Callers take tokens in chunks and spend them locally, so the backend sees
 * one call per chunk, not one per event.
 *
 * - **Atomic per key, across processes.** Concurrent `take`s never hand out more tokens in total
 *   than the bucket held: what was granted is gone for everyone.
 * - **Partial grants.** `take` returns how many of `want` it got (0..want): what the bucket had,
 *   rounded down to whole tokens. A bucket starts full and refills continuously up to `burst`.
 * - **One clock.** Refill is judged on the backend's clock (Redis `TIME`), so the hosts' clock
 *   skew does not matter.
 * - **Expiry and loss.** A bucket that would be full again is forgotten; losing the backend
 *   refills every bucket, which grants one fresh burst and nothing more.
 * - Keys are opaque strings of 1..256 characters; a policy must be the same for every caller of a
 *   key (the call's policy is the one applied).
 */
export interface TokenBuckets {
  take(key: string, want: number, policy: RatePolicy): Promise<number>;
}

/** One-to-one call signalling state (VoIP, 0x0401-0x0407), keyed by the caller. */
export interface CallRecord {
  creatorId: number;
  calleeId: number;
  /** CIMVoipInviteType: 1 voice, 2 video. */
  callType: number;
  channelName: string;
  channelToken: string;
  /** Unix ms of the invite. */
  startedAt: number;
  /** Unix ms the callee answered (200 OK); 0 while it rings. */
  answeredAt: number;
  /** Unix ms the call ended; 0 while it lasts. */
  endedAt: number;
  /** Who ended it (0: the server, for an unanswered invite); meaningful once `endedAt` is set. */
  endedBy: number;
}

/**
 * Calls in progress, shared by every logic process (a caller's and a callee's requests travel in
 * different lanes, maybe to different processes).
 *
 * - **One call per user.** `open` is atomic across processes: it refuses when the caller or the
 *   callee is already a party of a call that has not ended, so of two racing invites that share a
 *   party exactly one wins.
 * - **Ended once.** `end` is atomic: the first caller decides who ended the call and when; later
 *   calls (a retry, the other party hanging up at the same moment) get the same record back, so
 *   every effect of the end can be keyed by it. An ended call frees both parties at once and is
 *   kept `endedTtlMs` for such retries.
 * - **Expiry.** A call lives `ttlMs` after `open`, `answer` or `touch` (the clients' VoIP
 *   heartbeats); one that nobody refreshes is forgotten, as if it never was. Losing the backend
 *   forgets every call: the parties are free again, and a late bye finds nothing.
 */
export interface CallRegistry {
  /** Opens `call` (its `answeredAt`/`endedAt`/`endedBy` are ignored); false when a party is busy. */
  open(call: CallRecord, ttlMs: number): Promise<boolean>;
  /** The call `creatorId` started, ended or not; undefined when unknown or expired. */
  get(creatorId: number): Promise<CallRecord | undefined>;
  /**
   * Marks the call named `channelName` answered (once; the first time wins) and refreshes it.
   * Undefined when there is no such call, or it has ended.
   */
  answer(creatorId: number, channelName: string, at: number, ttlMs: number): Promise<CallRecord | undefined>;
  /** The live (not ended) call `userId` is a party of, as creator or callee; undefined when none. */
  liveOf(userId: number): Promise<CallRecord | undefined>;
  /** Refreshes the live call `userId` is a party of; false when there is none. */
  touch(userId: number, ttlMs: number): Promise<boolean>;
  /**
   * Ends the call named `channelName` by `by` at `at`, unless it has ended already (then returns
   * it as it ended) or `onlyUnanswered` is set and it was answered (then undefined). Undefined
   * when there is no such call.
   */
  end(
    creatorId: number,
    channelName: string,
    by: number,
    at: number,
    options: { onlyUnanswered: boolean; endedTtlMs: number },
  ): Promise<CallRecord | undefined>;
}

/** What `IdempotencyKeys.claim` found under a key. */
export type IdempotencyClaim =
  /** The key was free and is now held by this caller (pending) until `complete` or `release`. */
  | { readonly state: 'claimed' }
  /** Another request holds the key and has not answered yet. */
  | { readonly state: 'pending'; readonly fingerprint: string }
  /** A request with this key was answered: its fingerprint and the stored answer. */
  | { readonly state: 'done'; readonly fingerprint: string; readonly response: string };

/**
 * Idempotency keys of the HTTP API, shared by every api process (docs/api.md): the first request
 * with a key claims it, stores its answer when done, and every later request with the key sees
 * that answer (or that the first one is still running).
 *
 * - **Atomic across processes.** Of concurrent `claim`s of a free key exactly one gets `claimed`.
 * - **Owned.** `complete` and `release` act only while the key is pending under the same
 *   fingerprint (a claim that outlived its `pendingTtlMs` and was claimed again is not
 *   overwritten by the late first holder).
 * - **Expiry.** A pending key is forgotten after `pendingTtlMs` (its holder died), a completed one
 *   after `ttlMs`. Losing the backend forgets every key: a retry after that runs again (the send
 *   API's messages stay deduplicated by the store).
 * - Keys are opaque strings of 1..256 characters, fingerprints 1..128 characters without `|`.
 */
export interface IdempotencyKeys {
  claim(key: string, fingerprint: string, pendingTtlMs: number): Promise<IdempotencyClaim>;
  complete(key: string, fingerprint: string, response: string, ttlMs: number): Promise<void>;
  release(key: string, fingerprint: string): Promise<void>;
}

export interface Cache {
  readonly routes: RouteTable;
  readonly sequences: SequenceCounter;
  readonly receipts: ReceiptBuffer;
  readonly attempts: AttemptThrottle;
  readonly presence: PresenceRegistry;
  readonly rates: TokenBuckets;
  readonly calls: CallRegistry;
  readonly idempotency: IdempotencyKeys;
  /** Releases connections; later calls reject with `CacheUnavailableError`. */
  close(): Promise<void>;
}
