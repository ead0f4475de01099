import {
  checkFrameLength,
  checkMaxFrameLength,
  DEFAULT_MAX_FRAME_LENGTH,
  frameAt,
  readUint32,
  type Frame,
  type FrameOf,
} from './frame.codec';
import { FrameError } from './error-codes';

export interface WsFrameOptions {
  /**
   * Largest accepted message (= frame) size. Also set the WebSocket server's `maxPayload` to it,
   * so oversized messages are refused before they are buffered.
   * @default 1048576 (1 MiB)
   */
  maxFrameLength?: number;
}

/** What the `ws` library hands to a 'message' listener, whatever its `binaryType`. */
export type WsMessageData = Buffer | ArrayBuffer | readonly Buffer[];

/**
 * Decodes one WebSocket message, which must be exactly one complete frame: binary, at least 16
 * bytes, within the maximum, and with a length field equal to the message size (no trailing or
 * missing bytes, no second frame). The body is a view into `data`.
 *
 * @throws FrameError `IM_ERR_WS_TEXT_MESSAGE` for a text message, `IM_ERR_FRAME_LENGTH` otherwise.
 */
export function decodeWsFrame(data: WsMessageData, isBinary: boolean, options: WsFrameOptions = {}): Frame {
  if (!isBinary) throw new FrameError('IM_ERR_WS_TEXT_MESSAGE', 'text WebSocket message; frames are binary');
  return wholeFrame(toBuffer(data), options);
}

/**
 * {@link decodeWsFrame} for a browser's WebSocket (`binaryType = 'arraybuffer'`): no Buffer.
 * Text messages arrive as strings there; the caller refuses them before this.
 */
export function decodeWsMessage(
  data: ArrayBuffer | Uint8Array,
  options: WsFrameOptions = {},
): FrameOf<Uint8Array> {
  return wholeFrame(data instanceof Uint8Array ? data : new Uint8Array(data), options);
}

function wholeFrame<B extends Uint8Array>(buf: B, options: WsFrameOptions): FrameOf<B> {
  const maxFrameLength = checkMaxFrameLength(options.maxFrameLength ?? DEFAULT_MAX_FRAME_LENGTH);
  checkFrameLength(buf.length, maxFrameLength);
  const length = readUint32(buf, 0);
  if (length !== buf.length) {
    throw new FrameError(
      'IM_ERR_FRAME_LENGTH',
      `frame length field ${length} but the WebSocket message has ${buf.length} bytes (one message = one frame)`,
    );
  }
  return frameAt(buf, 0, length);
}

function toBuffer(data: WsMessageData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  const parts = data as readonly Buffer[];
  return parts.length === 1 ? parts[0] : Buffer.concat(parts);
}
