import { Writer } from 'protobufjs/minimal';
import { CommandId, describeCommand } from './command-id';
import { ProtocolError } from './error-codes';
import { FRAME_HEADER_LENGTH, writeHeader } from './frame.codec';
import { bodyTypes, type AnyBody, type BodyInput, type BodyOf } from './messages';

/** The registry seen at run time, where the command id is just a number. */
interface RuntimeBodyType {
  encode(message: unknown, writer?: Writer): Writer;
  decode(body: Uint8Array): AnyBody;
}

const registry = new Map<number, RuntimeBodyType>(
  Object.entries(bodyTypes).map(([cmd, type]) => [Number(cmd), type as unknown as RuntimeBodyType]),
);

function typeOf(cmd: number): RuntimeBodyType {
  const type = registry.get(cmd);
  if (type === undefined) {
    throw new ProtocolError('IM_ERR_UNKNOWN_COMMAND', `no body type for command ${describeCommand(cmd)}`);
  }
  return type;
}

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
  const type = typeOf(cmd);
  try {
    return type.decode(body);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new ProtocolError(
      'IM_ERR_BAD_BODY',
      `invalid ${describeCommand(cmd)} body (${body.length} bytes): ${reason}`,
      { cause: err },
    );
  }
}

// Encoding is synchronous, so one writer serves every call: its buffer is reused instead of
// allocated per message, and results are copied out at their exact size.
const SCRATCH_LIMIT = 64 * 1024;
let scratch = Writer.create();

function encodeWithScratch<T>(cmd: number, message: unknown, finish: (writer: Writer) => T): T {
  const type = typeOf(cmd);
  const writer = scratch;
  writer.reset();
  try {
    return finish(type.encode(message, writer));
  } catch (err) {
    // A failed encode may leave forked state behind; start over rather than reason about it.
    scratch = Writer.create();
    throw err;
  } finally {
    // Don't pin a large buffer for the life of the process after one big message.
    if (writer.buf.length > SCRATCH_LIMIT) scratch = Writer.create();
  }
}

/** Encodes the body of command `cmd` from a message instance or a plain object of its properties. */
export function encodeBody<C extends CommandId>(cmd: C, message: BodyInput<C>): Uint8Array {
  return encodeWithScratch(cmd, message, (writer) => writer.finish());
}

/**
 * Encodes a whole frame (header + body of command `cmd`) into one buffer allocated at its exact
 * size: the header is written in place and the body copied in once.
 *
 * @throws RangeError when cmd or seq do not fit in 16 bits.
 */
export function encodeMessageFrame<C extends CommandId>(cmd: C, seq: number, message: BodyInput<C>): Buffer {
  return encodeWithScratch(cmd, message, (writer) => {
    const frame = Buffer.allocUnsafe(FRAME_HEADER_LENGTH + writer.pos);
    writeHeader(frame, cmd, seq);
    return writer.finishInto(frame, FRAME_HEADER_LENGTH);
  });
}
