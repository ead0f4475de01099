import type { Logger } from '@mqim/config';

export type Transport = 'tcp' | 'ws';

/** What a connection needs from its transport: write one whole frame, or hang up. */
export interface FrameSink {
  write(frame: Buffer): void;
  /** Bytes queued in user space and not yet handed to the kernel (slow-consumer detection). */
  pendingBytes(): number;
  close(): void;
}

export interface RateLimit {
  perSecond: number;
  burst: number;
}

/**
 * One client connection on a gate. Holds only what the gate needs to route frames: who is
 * logged in, the server-side seq counter and liveness/rate bookkeeping. Timers are not per
 * connection: the gate sweeps all connections once a second.
 */
/** Typing notices per second one connection may send, and its burst. */
export const TYPING_PER_SEC = 2;
export const TYPING_BURST = 5;

export class Connection {
  userId = 0;
  clientType = 0;
  /** The id of the login token this session logged in with; '' for a password login. */
  tokenId = '';
  /** When the login was bound (0 before): the presence event's online time. */
  loggedInAt = 0;
  /** `ClientCapability` flags the client announced (0x0803); 0: a CoffeeChat client (legacy.filter.ts). */
  capabilities = 0;
  closed = false;
  /** Why close() closed it; a connection the peer closed has none. */
  closeReason = '';
  /** When each send handed to logic and not yet answered was read (SendAdmission). */
  readonly sendsOutstanding = new Map<number, number>();
  /** When each query handed to logic and not yet answered was read (QueryBudget). */
  readonly queriesOutstanding: number[] = [];
  /** Reply bytes the connection may still take (QueryBudget's bucket; may go negative). */
  queryBytes = 0;
  queryBytesAt = 0;
  /** Whether 0x0826 presence notices go to this connection (it sent 0x0824 subscribe). */
  presenceSubscribed = false;
  private typingTokens = TYPING_BURST;
  private typingAt = 0;
  readonly openedAt: number;
  lastSeenAt: number;
  private serverSeq = 0;
  private tokens: number;
  private tokensAt: number;

  constructor(
    readonly id: string,
    readonly transport: Transport,
    readonly remote: string,
    private readonly sink: FrameSink,
    private readonly limit: RateLimit,
    now: number,
  ) {
    this.openedAt = now;
    this.lastSeenAt = now;
    this.tokens = limit.burst;
    this.tokensAt = now;
  }

  get loggedIn(): boolean {
    return this.userId !== 0;
  }

  /** Server-initiated frames count 1…65534 and wrap to 1: clients treat 0 as "no seq". */
  nextServerSeq(): number {
    this.serverSeq = this.serverSeq >= 65534 ? 1 : this.serverSeq + 1;
    return this.serverSeq;
  }

  /** Token bucket: false once the client sends faster than its rate for longer than its burst. */
  takeToken(now: number): boolean {
    const refill = ((now - this.tokensAt) * this.limit.perSecond) / 1000;
    this.tokens = Math.min(this.limit.burst, this.tokens + refill);
    this.tokensAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /**
   * Typing notices (0x0820) have their own small bucket: a flood of them is refused one by one
   * (IM_ERR_TYPING_RATE_LIMITED), without costing the connection the way a frame flood does.
   */
  takeTypingToken(now: number): boolean {
    if (this.typingAt !== 0)
      this.typingTokens = Math.min(
        TYPING_BURST,
        this.typingTokens + ((now - this.typingAt) * TYPING_PER_SEC) / 1000,
      );
    this.typingAt = now;
    if (this.typingTokens < 1) return false;
    this.typingTokens -= 1;
    return true;
  }

  write(frame: Buffer): boolean {
    if (this.closed) return false;
    this.sink.write(frame);
    return true;
  }

  pendingBytes(): number {
    return this.sink.pendingBytes();
  }

  /** Closes once; the reason is logged so an operator can tell floods from timeouts from kicks. */
  close(reason: string, logger: Logger, level: 'info' | 'warn' = 'info'): void {
    if (this.closed) return;
    this.closed = true;
    this.closeReason = reason;
    logger[level](
      {
        conn: this.id,
        user: this.userId || undefined,
        remote: this.remote,
        transport: this.transport,
        reason,
      },
      'closing connection',
    );
    this.sink.close();
  }
}
