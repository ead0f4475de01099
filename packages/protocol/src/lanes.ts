import { mqim } from './generated/proto';

/**
 * Ordered hops (`im-upstream`, `im-deliver`) carry batches, one message group per *lane*: a
 * conversation's order key always hashes to the same lane, so its requests stay in one FIFO
 * message group across batches, while the number of broker calls no longer grows with the number
 * of conversations. Every producer of a topic must use the same lane count, or one conversation
 * could travel in two lanes during a change (docs/mq-topics.md, "Lanes").
 */
export const DEFAULT_LANES = 4;

/** Tag of an `UpstreamBatch` on the upstream topic (other tags: one bare `UpstreamRequest`). */
export const UPSTREAM_BATCH_TAG = 'batch';
/** Tag of a `DeliveryIntentBatch` on the deliver topic (other tags: one bare `DeliveryIntent`). */
export const INTENT_BATCH_TAG = 'intents';

/** The lane of an order key: FNV-1a (32 bit) of its UTF-16 code units, mod `lanes`. */
export function laneOf(orderKey: string, lanes: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < orderKey.length; i++) {
    h ^= orderKey.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % lanes;
}

/** The message group of a lane. */
export function laneGroup(lane: number): string {
  return `lane-${lane}`;
}

/** Validates a configured lane count (1..1024). */
export function assertLanes(lanes: number): number {
  if (!Number.isInteger(lanes) || lanes < 1 || lanes > 1024)
    throw new RangeError(`lanes must be an integer in 1..1024, got ${lanes}`);
  return lanes;
}

/** One request of an upstream MQ message with the key that orders it. */
export interface OrderedRequest {
  readonly request: mqim.v1.UpstreamRequest;
  readonly orderKey: string;
}

/**
 * The requests of one `im-upstream` message: an `UpstreamBatch` (tag `batch`), or one bare
 * `UpstreamRequest` as mqim 0.1 gates publish it, ordered by its message group. Throws on a body
 * that does not decode.
 */
export function decodeUpstream(body: Uint8Array, tag?: string, messageGroup?: string): OrderedRequest[] {
  if (tag === UPSTREAM_BATCH_TAG) {
    // Decoded repeated fields are instances of the message class (protobufjs types them loosely).
    return (mqim.v1.UpstreamBatch.decode(body).requests as mqim.v1.UpstreamRequest[]).map((request) => ({
      request,
      orderKey: request.orderKey,
    }));
  }
  const request = mqim.v1.UpstreamRequest.decode(body);
  return [{ request, orderKey: request.orderKey || messageGroup || '' }];
}

/**
 * An `UpstreamBatch` from requests already encoded one by one (field 1, length-delimited, is the
 * same bytes whether written from objects or spliced): the gate encodes each request once, when
 * it reads the frame, and the batch costs a copy.
 */
export function encodeUpstreamBatch(encodedRequests: readonly Uint8Array[]): Uint8Array {
  return encodeRepeatedField1(encodedRequests);
}

/** A `DeliveryIntentBatch` from intents encoded one by one (see `encodeUpstreamBatch`). */
export function encodeIntentBatch(encodedIntents: readonly Uint8Array[]): Uint8Array {
  return encodeRepeatedField1(encodedIntents);
}

/** The intents of one `im-deliver` message (a batch by tag, else one bare `DeliveryIntent`). */
export function decodeIntents(body: Uint8Array, tag?: string): mqim.v1.DeliveryIntent[] {
  if (tag === INTENT_BATCH_TAG)
    return mqim.v1.DeliveryIntentBatch.decode(body).intents as mqim.v1.DeliveryIntent[];
  return [mqim.v1.DeliveryIntent.decode(body)];
}

function encodeRepeatedField1(items: readonly Uint8Array[]): Uint8Array {
  let size = 0;
  for (const item of items) size += 1 + varintSize(item.length) + item.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const item of items) {
    out[at++] = 0x0a; // field 1, wire type 2
    let n = item.length;
    while (n > 0x7f) {
      out[at++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    out[at++] = n;
    out.set(item, at);
    at += item.length;
  }
  return out;
}

function varintSize(n: number): number {
  let size = 1;
  while (n > 0x7f) {
    n >>>= 7;
    size++;
  }
  return size;
}
