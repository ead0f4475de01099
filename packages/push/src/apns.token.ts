import type { KeyObject } from 'node:crypto';
import { signJwt } from './jwt.signer';

/**
 * The APNs provider token: an ES256 JWT `{alg, kid: keyId}.{iss: teamId, iat}`. Apple rejects
 * tokens older than an hour (ExpiredProviderToken) and throttles providers that mint new ones more
 * often than every 20 minutes (TooManyProviderTokenUpdates), so one token is shared by every
 * request and replaced on a fixed period inside that band.
 */
export class ApnsTokenCache {
  private token?: string;
  private issuedAtMs = 0;

  constructor(
    private readonly key: KeyObject,
    private readonly keyId: string,
    private readonly teamId: string,
    private readonly refreshMs: number,
    private readonly minRenewMs: number,
    private readonly now: () => number,
  ) {}

  current(): string {
    if (!this.token || this.now() - this.issuedAtMs >= this.refreshMs) this.mint();
    return this.token as string;
  }

  /**
   * APNs said `rejected` has expired. Returns whether retrying makes sense: yes if another request
   * already replaced it, or if it is old enough to replace without tripping Apple's throttle. A
   * young token reported expired means our clock is off; minting more would not help.
   */
  renewAfterExpiry(rejected: string): boolean {
    if (rejected !== this.token) return true;
    if (this.now() - this.issuedAtMs < this.minRenewMs) return false;
    this.mint();
    return true;
  }

  private mint(): void {
    const nowMs = this.now();
    this.token = signJwt(
      'ES256',
      { kid: this.keyId },
      { iss: this.teamId, iat: Math.floor(nowMs / 1000) },
      this.key,
    );
    this.issuedAtMs = nowMs;
  }
}
