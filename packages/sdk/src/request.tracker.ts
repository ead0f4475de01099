import type { ClientFrame as Frame } from './transport/transport';
import { ImClientError, ImTimeoutError, type ServerErrorDetail } from './im.errors';

const MAX_SEQ = 0xffff;

interface Pending {
  readonly requestCmd: number;
  readonly responseCmd: number;
  /** Maps and resolves; a throw rejects instead. */
  readonly answer: (frame: Frame) => void;
  readonly reject: (err: Error) => void;
  readonly refuse: (detail: ServerErrorDetail) => Error;
  readonly timer: ReturnType<typeof setTimeout>;
}

interface DetailWaiter {
  readonly requestCmd: number;
  readonly resolve: (detail: ServerErrorDetail | undefined) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

/**
 * The client seq counter and the in-flight requests of one connection.
 *
 * Contract:
 * - seqs count from 1 and wrap 65535 → 1 (never 0); a seq still in flight is skipped, so two
 *   pending requests never share one;
 * - a frame answers a request only when both its seq and its command are the expected ones:
 *   frames the server starts carry the server's own seq counter, which collides with ours;
 * - every tracked request settles exactly once: by its response, by a server refusal naming its
 *   seq, by its timeout, or by `failAll` when the connection goes away. No timer outlives that.
 */
export class RequestTracker {
  private seq = 0;
  private readonly pending = new Map<number, Pending>();
  private readonly detailWaiters = new Map<number, DetailWaiter>();

  /** Requests awaiting an answer. */
  get size(): number {
    return this.pending.size;
  }

  nextSeq(): number {
    for (let i = 0; i < MAX_SEQ; i++) {
      this.seq = this.seq >= MAX_SEQ ? 1 : this.seq + 1;
      if (!this.pending.has(this.seq)) return this.seq;
    }
    throw new ImClientError('IM_ERR_INVALID_ARGUMENT', `${MAX_SEQ} requests in flight on one connection`);
  }

  /**
   * Waits for the `responseCmd` frame echoing `seq`.
   *
   * @param refuse builds the rejection when the server refuses the request with an error notify.
   * @param onResponse maps the response synchronously, while it is being read (a throw rejects).
   */
  track<T>(
    seq: number,
    requestCmd: number,
    responseCmd: number,
    timeoutMs: number,
    refuse: (detail: ServerErrorDetail) => Error,
    onResponse: (frame: Frame) => T,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(seq);
        reject(new ImTimeoutError(requestCmd, seq, timeoutMs));
      }, timeoutMs);
      const answer = (frame: Frame): void => {
        try {
          resolve(onResponse(frame));
        } catch (err) {
          reject(err);
        }
      };
      this.pending.set(seq, { requestCmd, responseCmd, answer, reject, refuse, timer });
    });
  }

  /** Resolves the request `frame` answers; false when it answers none (a server-initiated frame). */
  settle(frame: Frame): boolean {
    const entry = this.pending.get(frame.seq);
    if (entry === undefined || entry.responseCmd !== frame.commandId) return false;
    this.pending.delete(frame.seq);
    clearTimeout(entry.timer);
    entry.answer(frame);
    return true;
  }

  /**
   * Hands a server refusal (MqimErrorNotify) to the request it names: rejects a pending one, or
   * completes {@link awaitRefusalDetail}. False when it names no request we are waiting on.
   */
  refuse(detail: ServerErrorDetail): boolean {
    const seq = detail.requestSeq;
    if (seq === 0) return false;
    const entry = this.pending.get(seq);
    if (entry !== undefined && matches(entry.requestCmd, detail.requestCmd)) {
      this.pending.delete(seq);
      clearTimeout(entry.timer);
      entry.reject(entry.refuse(detail));
      return true;
    }
    const waiter = this.detailWaiters.get(seq);
    if (waiter !== undefined && matches(waiter.requestCmd, detail.requestCmd)) {
      this.detailWaiters.delete(seq);
      clearTimeout(waiter.timer);
      waiter.resolve(detail);
      return true;
    }
    return false;
  }

  /**
   * After a negative response, waits up to `graceMs` for the error notify that explains it: the
   * server sends both, in either order, and the explanation is what the caller needs to see.
   * Resolves undefined when none comes (CoffeeChat servers never send one).
   */
  awaitRefusalDetail(
    seq: number,
    requestCmd: number,
    graceMs: number,
  ): Promise<ServerErrorDetail | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.detailWaiters.delete(seq);
        resolve(undefined);
      }, graceMs);
      this.detailWaiters.set(seq, { requestCmd, resolve, timer });
    });
  }

  /** Rejects everything in flight with `err` (the connection is gone). */
  failAll(err: Error): void {
    const pending = [...this.pending.values()];
    const waiters = [...this.detailWaiters.values()];
    this.pending.clear();
    this.detailWaiters.clear();
    for (const entry of pending) {
      clearTimeout(entry.timer);
      entry.reject(err);
    }
    for (const waiter of waiters) {
      clearTimeout(waiter.timer);
      waiter.resolve(undefined);
    }
  }
}

// request_cmd 0 means the server did not say which command; the seq alone decides then.
function matches(expected: number, named: number): boolean {
  return named === 0 || named === expected;
}
