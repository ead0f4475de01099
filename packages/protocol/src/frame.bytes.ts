// The CIM frame layout on plain Uint8Arrays: shared by the server and the SDK's browser build,
// so nothing here may touch Buffer (frame.codec.ts adds the Buffer-based parts for Node).
import { FrameError } from './error-codes';

/** Every frame starts with this many header bytes; a frame with an empty body is just the header. */
export const FRAME_HEADER_LENGTH = 16;
/** The version mqim writes; not checked on receive (clients send various values). */
export const FRAME_VERSION = 1;
/** Default upper bound of a frame's length field, header included (1 MiB). */
export const DEFAULT_MAX_FRAME_LENGTH = 1024 * 1024;
/** The largest value the 32-bit length field can hold. */
export const MAX_LENGTH_FIELD = 0xffff_ffff;

/** The 16-byte big-endian header of a CIM frame. */
export interface FrameHeader {
  /** Whole frame, header included. */
  readonly length: number;
  readonly version: number;
  readonly flag: number;
  readonly serviceId: number;
  readonly commandId: number;
  readonly seq: number;
  readonly reserved: number;
}

/**
 * A complete frame. `body` may be a view into a larger buffer: copy it to keep it past the read.
 * The server's frames carry Buffers; the SDK's browser build reads plain Uint8Arrays.
 */
export interface FrameOf<B extends Uint8Array> extends FrameHeader {
  readonly body: B;
}

/**
 * Writes the header into the first 16 bytes of `frame`, whose total size becomes the length field.
 * For callers that encode the body straight into a buffer with room reserved for the header.
 */
export function writeHeader(frame: Uint8Array, cmd: number, seq: number): void {
  checkUint16(cmd, 'command id');
  checkUint16(seq, 'seq');
  const length = frame.length;
  if (length < FRAME_HEADER_LENGTH || length > MAX_LENGTH_FIELD) {
    throw new RangeError(`frame of ${length} bytes cannot be encoded`);
  }
  frame[0] = length >>> 24;
  frame[1] = length >>> 16;
  frame[2] = length >>> 8;
  frame[3] = length;
  frame[4] = 0;
  frame[5] = FRAME_VERSION;
  // flag, service_id: unused by every client.
  frame[6] = 0;
  frame[7] = 0;
  frame[8] = 0;
  frame[9] = 0;
  frame[10] = cmd >>> 8;
  frame[11] = cmd;
  frame[12] = seq >>> 8;
  frame[13] = seq;
  frame[14] = 0;
  frame[15] = 0;
}

/**
 * Reads the header at `offset`. Checks only that 16 bytes are there; whether the length is
 * acceptable is the decoder's call.
 *
 * @throws FrameError `IM_ERR_FRAME_LENGTH` when fewer than 16 bytes are available.
 */
export function readHeader(buf: Uint8Array, offset = 0): FrameHeader {
  if (buf.length - offset < FRAME_HEADER_LENGTH) {
    throw new FrameError(
      'IM_ERR_FRAME_LENGTH',
      `need ${FRAME_HEADER_LENGTH} header bytes, have ${Math.max(0, buf.length - offset)}`,
    );
  }
  return {
    length: readUint32(buf, offset),
    version: readUint16(buf, offset + 4),
    flag: readUint16(buf, offset + 6),
    serviceId: readUint16(buf, offset + 8),
    commandId: readUint16(buf, offset + 10),
    seq: readUint16(buf, offset + 12),
    reserved: readUint16(buf, offset + 14),
  };
}

/** Reads the 32-bit big-endian length field at `offset` (4 bytes must be there). */
export function readUint32(buf: Uint8Array, offset: number): number {
  return buf[offset] * 0x100_0000 + ((buf[offset + 1] << 16) | (buf[offset + 2] << 8) | buf[offset + 3]);
}

export function readUint16(buf: Uint8Array, offset: number): number {
  return (buf[offset] << 8) | buf[offset + 1];
}

function checkUint16(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff) {
    throw new RangeError(`${what} ${value} does not fit in 16 bits`);
  }
}

/** Checks a length field against the accepted range; shared by the TCP and WS decoders. */
export function checkFrameLength(length: number, maxFrameLength: number): void {
  if (length < FRAME_HEADER_LENGTH || length > maxFrameLength) {
    throw new FrameError(
      'IM_ERR_FRAME_LENGTH',
      `frame length ${length} outside ${FRAME_HEADER_LENGTH}..${maxFrameLength}`,
    );
  }
}

/** Validates a configured maximum frame length. */
export function checkMaxFrameLength(maxFrameLength: number): number {
  if (
    !Number.isInteger(maxFrameLength) ||
    maxFrameLength < FRAME_HEADER_LENGTH ||
    maxFrameLength > MAX_LENGTH_FIELD
  ) {
    throw new RangeError(
      `maxFrameLength ${maxFrameLength} outside ${FRAME_HEADER_LENGTH}..${MAX_LENGTH_FIELD}`,
    );
  }
  return maxFrameLength;
}

/**
 * The frame of `length` bytes at `offset` in `buf`, its body a zero-copy view. The caller has
 * checked that the bytes are there and that `length` is acceptable.
 */
export function frameAt<B extends Uint8Array>(buf: B, offset: number, length: number): FrameOf<B> {
  return {
    length,
    version: readUint16(buf, offset + 4),
    flag: readUint16(buf, offset + 6),
    serviceId: readUint16(buf, offset + 8),
    commandId: readUint16(buf, offset + 10),
    seq: readUint16(buf, offset + 12),
    reserved: readUint16(buf, offset + 14),
    // Buffer#subarray is a Buffer, Uint8Array#subarray a Uint8Array.
    body: buf.subarray(offset + FRAME_HEADER_LENGTH, offset + length) as B,
  };
}
