// One WebSocket message = one frame, on plain Uint8Arrays (browser-safe; ws-frame.ts adds the
// \`ws\` library's message shapes for Node).
import { FrameError } from './error-codes';
import {
  checkFrameLength,
  checkMaxFrameLength,
  DEFAULT_MAX_FRAME_LENGTH,
  frameAt,
  readUint32,
  type FrameOf,
} from './frame.bytes';

export interface WsFrameOptions {
  /**
   * Largest accepted message (= frame) size. Also set the WebSocket server's `maxPayload` to it,
   * so oversized messages are refused before they are buffered.
   * @default 1048576 (1 MiB)
   */
  maxFrameLength?: number;
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

/** Checks that one message is exactly one frame; its body is a view into `buf`. */
export function wholeFrame<B extends Uint8Array>(buf: B, options: WsFrameOptions): FrameOf<B> {
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
