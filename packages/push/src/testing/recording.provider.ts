import type { PushNotification, PushPlatform, PushProvider, PushResult, PushTarget } from '../push.port';

/**
 * An in-memory `PushProvider` that records what it is asked to send: for dispatcher tests and for
 * end-to-end tests that want to see offline pushes without any HTTP.
 */
export class RecordingPushProvider implements PushProvider {
  readonly sent: Array<{ target: PushTarget; notification: PushNotification }> = [];
  /** Highest number of sends that were in flight at once. */
  maxConcurrent = 0;
  closed = false;
  private readonly results = new Map<string, PushResult>();
  private active = 0;

  constructor(
    readonly platform: PushPlatform,
    private readonly options: { delayMs?: number } = {},
  ) {}

  /** Sends to `token` resolve `result` (default: permanent failure, token dead). */
  failToken(
    token: string,
    result: PushResult = { ok: false, permanent: true, reason: 'fake: Unregistered' },
  ): void {
    this.results.set(token, result);
  }

  async send(target: PushTarget, notification: PushNotification): Promise<PushResult> {
    if (this.closed) return { ok: false, permanent: false, reason: 'closed' };
    this.active++;
    this.maxConcurrent = Math.max(this.maxConcurrent, this.active);
    try {
      if (this.options.delayMs) await new Promise((r) => setTimeout(r, this.options.delayMs));
      this.sent.push({ target, notification });
      return this.results.get(target.token) ?? { ok: true };
    } finally {
      this.active--;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
