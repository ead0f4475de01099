import type { Writable } from 'node:stream';

/**
 * Past this many bytes held for one socket it is flushed at once: the slow-consumer check reads the
 * socket's queued bytes, which while held include what this turn wrote.
 */
export const COALESCE_FLUSH_BYTES = 64 * 1024;

/**
 * Gathers what is written to a socket within one turn (until Node's next-tick queue runs) into one
 * writev(): `hold()` corks the socket for the rest of the turn. Without it every frame costs a
 * write() syscall and a write request of its own; a gate batch of deliveries and acks that holds
 * several frames for one connection then goes out in one.
 *
 * Only for connections whose client reads frames out of a byte stream correctly whatever the
 * segmentation (WebSocket keeps one message per frame anyway; TCP clients that announced
 * capabilities, 0x0803): CoffeeChat's Flutter client trips over two frames in one read
 * (docs/protocol.md §1), so its connections keep one write() per frame.
 */
export class WriteCoalescer {
  private held = new Set<Writable>();
  private scheduled = false;

  /** Corks `stream` until the end of this turn; call before writing to it. */
  hold(stream: Writable): void {
    if (this.held.has(stream)) {
      if (stream.writableLength >= COALESCE_FLUSH_BYTES) {
        stream.uncork();
        stream.cork();
      }
      return;
    }
    if (stream.destroyed || stream.writableEnded) return;
    stream.cork();
    this.held.add(stream);
    if (!this.scheduled) {
      this.scheduled = true;
      process.nextTick(this.flush);
    }
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    const held = this.held;
    this.held = new Set();
    // An ended or destroyed stream has already let go of (or dropped) what it held.
    for (const stream of held) {
      // One socket failing to flush must not leave the others corked (silently mute).
      try {
        if (stream.writableCorked > 0) stream.uncork();
      } catch {
        stream.destroy();
      }
    }
  };
}
