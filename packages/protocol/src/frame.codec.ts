import { FRAME_HEADER_LENGTH, writeHeader, type FrameOf } from './frame.bytes';

export {
  DEFAULT_MAX_FRAME_LENGTH,
  FRAME_HEADER_LENGTH,
  FRAME_VERSION,
  MAX_LENGTH_FIELD,
  checkFrameLength,
  checkMaxFrameLength,
  frameAt,
  readHeader,
  readUint32,
  writeHeader,
  type FrameHeader,
  type FrameOf,
} from './frame.bytes';

/** A frame as the server reads it: `body` is a Buffer view. */
export type Frame = FrameOf<Buffer>;

/**
 * Encodes a frame into one freshly allocated Buffer (header written in place, body copied once).
 * Hand it to `socket.write()` whole: one write per frame is what CoffeeChat clients cope with.
 *
 * @throws RangeError when cmd or seq do not fit in 16 bits; these come from our code, not clients.
 */
export function encodeFrame(cmd: number, seq: number, body?: Uint8Array): Buffer {
  const bodyLength = body === undefined ? 0 : body.length;
  const frame = Buffer.allocUnsafe(FRAME_HEADER_LENGTH + bodyLength);
  writeHeader(frame, cmd, seq);
  if (bodyLength > 0) frame.set(body as Uint8Array, FRAME_HEADER_LENGTH);
  return frame;
}
