/**
 * The largest id a caller may choose for a new user (2^31 - 1, a signed 32-bit int as the
 * CoffeeChat clients hold it). Ids above it are assigned by the database only.
 */
export const MAX_EXPLICIT_USER_ID = 2 ** 31 - 1;

/** A user to create: CoffeeChat's register endpoint gives either a name + password or an id. */
export interface NewUser {
  /**
   * An explicit id (legacy register body), 1..MAX_EXPLICIT_USER_ID; otherwise the database
   * assigns the next one.
   */
  readonly userId?: number;
  /** Unique ignoring case ("Alice" and "alice" are one name), at most 64 characters. */
  readonly userName?: string | null;
  /** @default '' */
  readonly nickName?: string;
  /** @default '' */
  readonly nickNameSpell?: string;
  /** @default '' */
  readonly phone?: string;
  /** @default '' */
  readonly avatarUrl?: string;
  /** @default '' */
  readonly attachInfo?: string;
  /**
   * MD5 of the password as 32 hex characters (what CoffeeChat clients send); null = no password
   * login. Stored as a salted scrypt hash of it, never as given.
   */
  readonly passwordMd5?: string | null;
}

export type UserPatch = Partial<
  Pick<NewUser, 'nickName' | 'nickNameSpell' | 'phone' | 'avatarUrl' | 'attachInfo' | 'passwordMd5'>
>;

/** A stored user. The password hash never leaves the store; use `verifyPassword`. */
export interface UserRecord {
  readonly userId: number;
  readonly userName: string | null;
  readonly nickName: string;
  readonly nickNameSpell: string;
  readonly phone: string;
  readonly avatarUrl: string;
  readonly attachInfo: string;
  /** Unix seconds. */
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface UserListQuery {
  /** Page size (1..1000). */
  readonly limit: number;
  /** Only users with a larger id (keyset paging). @default 0 */
  readonly afterId?: number;
}

export interface UserRepository {
  /** Creates a user; `UserAlreadyExistsError` if the id or the user name is taken. */
  create(user: NewUser): Promise<UserRecord>;
  findById(userId: number): Promise<UserRecord | null>;
  /** The user named exactly `userName`, else the one whose name differs only in case. */
  findByName(userName: string): Promise<UserRecord | null>;
  /** The users that exist among `userIds`, ascending by id. */
  findMany(userIds: readonly number[]): Promise<UserRecord[]>;
  /** Users ascending by id. */
  list(query: UserListQuery): Promise<UserRecord[]>;
  /**
   * The user when `userName` (looked up as `findByName`) has a password and its MD5 equals
   * `passwordMd5`. Slow on purpose (scrypt), whether or not the user exists. A row still holding
   * the bare MD5 (before migration 0002) is re-stored as a hash on its first successful check.
   */
  verifyPassword(userName: string, passwordMd5: string): Promise<UserRecord | null>;
  /** Changes profile fields; null when the user does not exist. */
  update(userId: number, patch: UserPatch): Promise<UserRecord | null>;
}

/**
 * Login tokens, stored as sha256(token) only. A user may hold several tokens at once (one per
 * device or business session); `rotate` replaces them all with one. Each token is named by its
 * token id (`tokenIdOf`), which sessions record so that ending a token can end its sessions.
 */
export interface TokenRepository {
  /** Adds a token (idempotent; re-issuing resets its expiry). Expired tokens of the user are pruned. */
  issue(userId: number, token: string, ttlSeconds?: number): Promise<void>;
  /** Replaces every token of the user with this one, atomically. */
  rotate(userId: number, token: string, ttlSeconds?: number): Promise<void>;
  /** True only for a non-empty token issued to this user and not expired. */
  verify(userId: number, token: string): Promise<boolean>;
  /** Removes one token, or all of the user's when `token` is omitted; returns how many. */
  revoke(userId: number, token?: string): Promise<number>;
  /** Removes the token whose id is `tokenId` (see `tokenIdOf`); returns how many (0 or 1). */
  revokeById(userId: number, tokenId: string): Promise<number>;
  /** The ids of the user's tokens that still verify (not expired), in no particular order. */
  liveIds(userId: number): Promise<string[]>;
}
