import { ProtocolError } from '@mqim/protocol';

interface Decoder<T> {
  decode(bytes: Uint8Array): T;
}

/** Decodes a request body; anything protobufjs rejects becomes IM_ERR_BAD_BODY for the client. */
export function decodeBody<T>(type: Decoder<T>, bytes: Uint8Array, what: string): T {
  try {
    return type.decode(bytes);
  } catch (err) {
    throw new ProtocolError('IM_ERR_BAD_BODY', `invalid ${what} body: ${(err as Error).message}`);
  }
}
