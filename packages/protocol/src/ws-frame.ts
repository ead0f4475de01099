import type { Frame } from './frame.codec';
import { FrameError } from './error-codes';
import { wholeFrame, type WsFrameOptions } from './ws-message';

export type { WsFrameOptions } from './ws-message';

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

function toBuffer(data: WsMessageData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  const parts = data as readonly Buffer[];
  return parts.length === 1 ? parts[0] : Buffer.concat(parts);
}
