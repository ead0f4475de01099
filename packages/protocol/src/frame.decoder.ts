import {
  checkFrameLength,
  checkMaxFrameLength,
  DEFAULT_MAX_FRAME_LENGTH,
  frameAt,
  readUint32,
  type Frame,
} from './frame.codec';

export interface FrameDecoderOptions {
  /**
   * Largest accepted length field (whole frame, header included). A bigger one is a protocol
   * error: nothing after it can be trusted, so the connection must close.
   * @default 1048576 (1 MiB)
   */
  maxFrameLength?: number;
}

const LENGTH_FIELD = 4;

/**
 * Splits a TCP byte stream into CIM frames.
 *
 * Contract:
 * - Frames come out in stream order, each exactly once, whatever the chunking: a frame may span
 *   any number of chunks and a chunk may hold any number of frames.
 * - A frame that lies whole inside one chunk gets a zero-copy `body` view into that chunk, so the
 *   caller must not mutate or reuse a chunk after pushing it (sockets' 'data' chunks are fresh
 *   buffers; a reused `onread` buffer is not). Frames assembled across chunks own their bytes.
 * - A length field outside 16..maxFrameLength throws a `FrameError` (`IM_ERR_FRAME_LENGTH`)
 *   as soon as its 4 bytes arrive, before anything is buffered for it; a frame never holds more
 *   than maxFrameLength bytes of memory.
 * - After any throw (bad length, or `onFrame` throwing) the decoder is failed: every later push
 *   throws the same error. The stream cannot be resynchronised; close the connection.
 */
export class FrameDecoder {
  private maxLength: number;
  // The frame being assembled across chunks, allocated at its full length once the length is known.
  private partial: Buffer | null = null;
  private partialFilled = 0;
  // A length field split across chunks (fewer than 4 bytes seen so far).
  private readonly lengthBytes = Buffer.alloc(LENGTH_FIELD);
  private lengthFilled = 0;
  private failure: unknown = null;

  constructor(options: FrameDecoderOptions = {}) {
    this.maxLength = checkMaxFrameLength(options.maxFrameLength ?? DEFAULT_MAX_FRAME_LENGTH);
  }

  /**
   * The cap on length fields read from now on (a gate raises it after login). A frame whose
   * length was already accepted keeps its size.
   */
  get maxFrameLength(): number {
    return this.maxLength;
  }
  set maxFrameLength(value: number) {
    this.maxLength = checkMaxFrameLength(value);
  }

  /** Bytes held for an incomplete frame. */
  get bufferedBytes(): number {
    return this.partial !== null ? this.partialFilled : this.lengthFilled;
  }

  /** Feeds one chunk and calls `onFrame` for every frame it completes, in order. */
  push(chunk: Buffer, onFrame: (frame: Frame) => void): void {
    if (this.failure !== null) throw this.failure;
    try {
      this.consume(chunk, onFrame);
    } catch (err) {
      this.failure = err;
      this.partial = null;
      throw err;
    }
  }

  /** Feeds one chunk and returns the frames it completes; {@link push} avoids the array. */
  pushAll(chunk: Buffer): Frame[] {
    const frames: Frame[] = [];
    this.push(chunk, (frame) => frames.push(frame));
    return frames;
  }

  private consume(chunk: Buffer, onFrame: (frame: Frame) => void): void {
    let offset = 0;
    const end = chunk.length;

    if (this.lengthFilled > 0) {
      const n = Math.min(LENGTH_FIELD - this.lengthFilled, end);
      chunk.copy(this.lengthBytes, this.lengthFilled, 0, n);
      this.lengthFilled += n;
      offset = n;
      if (this.lengthFilled < LENGTH_FIELD) return;
      const length = this.checkedLength(this.lengthBytes, 0);
      this.partial = Buffer.allocUnsafe(length);
      this.lengthBytes.copy(this.partial, 0);
      this.partialFilled = LENGTH_FIELD;
      this.lengthFilled = 0;
    }

    if (this.partial !== null) {
      const partial = this.partial;
      const n = Math.min(partial.length - this.partialFilled, end - offset);
      chunk.copy(partial, this.partialFilled, offset, offset + n);
      this.partialFilled += n;
      offset += n;
      if (this.partialFilled < partial.length) return;
      this.partial = null;
      this.partialFilled = 0;
      onFrame(frameAt(partial, 0, partial.length));
    }

    while (offset < end) {
      const available = end - offset;
      if (available < LENGTH_FIELD) {
        chunk.copy(this.lengthBytes, 0, offset, end);
        this.lengthFilled = available;
        return;
      }
      const length = this.checkedLength(chunk, offset);
      if (available < length) {
        const partial = Buffer.allocUnsafe(length);
        chunk.copy(partial, 0, offset, end);
        this.partial = partial;
        this.partialFilled = available;
        return;
      }
      onFrame(frameAt(chunk, offset, length));
      offset += length;
    }
  }

  private checkedLength(buf: Buffer, offset: number): number {
    const length = readUint32(buf, offset);
    checkFrameLength(length, this.maxLength);
    return length;
  }
}
