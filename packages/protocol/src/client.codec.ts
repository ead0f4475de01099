import { bodyTypesOf, type AnyBody, type BodyInput, type BodyOf } from './body-types';
import { createBodyCodec } from './body.codec';
import type { CommandId } from './command-id';
import { FRAME_HEADER_LENGTH, writeHeader } from './frame.bytes';
import { CIM } from './generated/cim.client';

// The slim module: what a client sends and receives, without the server's envelopes.
const codec = createBodyCodec(bodyTypesOf(CIM));

/**
 * {@link decodeBody} on the client module. uint64 fields come out as `Long`s where the `long`
 * package is loaded (Node) and as numbers in a browser bundle: `toId` takes both.
 */
export function decodeClientBody<C extends CommandId>(cmd: C, body: Uint8Array): BodyOf<C>;
export function decodeClientBody(cmd: number, body: Uint8Array): AnyBody;
export function decodeClientBody(cmd: number, body: Uint8Array): AnyBody {
  return codec.decode(cmd, body);
}

/** {@link encodeMessageFrame} into a plain Uint8Array (no Buffer in a browser). */
export function encodeClientFrame<C extends CommandId>(
  cmd: C,
  seq: number,
  message: BodyInput<C>,
): Uint8Array {
  return codec.encodeWith(cmd, message, (writer) => {
    const frame = new Uint8Array(FRAME_HEADER_LENGTH + writer.pos);
    writeHeader(frame, cmd, seq);
    return writer.finishInto(frame, FRAME_HEADER_LENGTH);
  });
}
