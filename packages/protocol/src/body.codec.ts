import { Writer } from 'protobufjs/minimal';
import type { AnyBody } from './body-types';
import { describeCommand } from './command-id';
import { ProtocolError } from './error-codes';

/** The registry seen at run time, where the command id is just a number. */
interface RuntimeBodyType {
  encode(message: unknown, writer?: Writer): Writer;
  decode(body: Uint8Array): AnyBody;
}

/**
 * Decoding and encoding over one registry of generated classes (see `bodyTypesOf`). The server
 * and the SDK's browser build each make one, on their own generated module; the typed functions
 * they export are thin wrappers.
 */
export interface BodyCodec {
  /** @throws ProtocolError `IM_ERR_BAD_BODY`, `IM_ERR_UNKNOWN_COMMAND` */
  decode(cmd: number, body: Uint8Array): AnyBody;
  /** Encodes into a reused writer and hands it to `finish`, which copies the result out. */
  encodeWith<T>(cmd: number, message: unknown, finish: (writer: Writer) => T): T;
}

// Don't pin a large buffer for the life of the process after one big message.
const SCRATCH_LIMIT = 64 * 1024;

export function createBodyCodec(types: object): BodyCodec {
  const registry = new Map<number, RuntimeBodyType>(
    Object.entries(types).map(([cmd, type]) => [Number(cmd), type as RuntimeBodyType]),
  );
  const typeOf = (cmd: number): RuntimeBodyType => {
    const type = registry.get(cmd);
    if (type === undefined) {
      throw new ProtocolError('IM_ERR_UNKNOWN_COMMAND', `no body type for command ${describeCommand(cmd)}`);
    }
    return type;
  };
  // Encoding is synchronous, so one writer serves every call: its buffer is reused instead of
  // allocated per message, and results are copied out at their exact size.
  let scratch = Writer.create();
  return {
    decode(cmd, body) {
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
    },
    encodeWith(cmd, message, finish) {
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
        if (writer.buf.length > SCRATCH_LIMIT) scratch = Writer.create();
      }
    },
  };
}
