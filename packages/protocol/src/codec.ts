import { createBodyCodec } from './body.codec';
import type { CommandId } from './command-id';
import { FRAME_HEADER_LENGTH, writeHeader } from './frame.codec';
import { bodyTypes, type AnyBody, type BodyInput, type BodyOf } from './messages';

const codec = createBodyCodec(bodyTypes);

/**
 * Decodes the body of command `cmd`. uint64 fields come out as unsigned `Long`s: pass them
 * through `toId` before use. `bytes` fields may be views into `body`. Unknown fields are dropped.
 *
 * @throws ProtocolError `IM_ERR_BAD_BODY` when `body` is not valid protobuf for the command's
 * type, `IM_ERR_UNKNOWN_COMMAND` when the command has no registered type.
 */
export function decodeBody<C extends CommandId>(cmd: C, body: Uint8Array): BodyOf<C>;
export function decodeBody(cmd: number, body: Uint8Array): AnyBody;
export function decodeBody(cmd: number, body: Uint8Array): AnyBody {
  return codec.decode(cmd, body);
}

/** Encodes the body of command `cmd` from a message instance or a plain object of its properties. */
export function encodeBody<C extends CommandId>(cmd: C, message: BodyInput<C>): Uint8Array {
  return codec.encodeWith(cmd, message, (writer) => writer.finish());
}

/**
 * Encodes a whole frame (header + body of command `cmd`) into one buffer allocated at its exact
 * size: the header is written in place and the body copied in once.
 *
 * @throws RangeError when cmd or seq do not fit in 16 bits.
 */
export function encodeMessageFrame<C extends CommandId>(cmd: C, seq: number, message: BodyInput<C>): Buffer {
  return codec.encodeWith(cmd, message, (writer) => {
    const frame = Buffer.allocUnsafe(FRAME_HEADER_LENGTH + writer.pos);
    writeHeader(frame, cmd, seq);
    return writer.finishInto(frame, FRAME_HEADER_LENGTH);
  });
}
