/**
 * RocketMQ's remoting protocol (what the name server, the broker and `mqadmin` speak over TCP),
 * just enough for provisioning. One frame:
 *
 * ```
 * | total length: int32 BE | serialize type: 1 byte | header length: 3 bytes BE | header | body |
 *   (counts everything after itself)
 * ```
 *
 * The header is JSON (serialize type 0): `{ code, language, version, opaque, flag, remark,
 * extFields }`, with every extField value a string. `opaque` pairs a response with its request;
 * bit 0 of `flag` marks a response, bit 1 a one-way request.
 */

export const SERIALIZE_JSON = 0;
const FLAG_RESPONSE = 1;
const FLAG_ONEWAY = 2;
/** The server refuses frames above 16 MiB (`NettyDecoder` FRAME_MAX_LENGTH default). */
export const MAX_FRAME_BYTES = 16 * 1024 * 1024;

export interface RemotingCommand {
  code: number;
  opaque: number;
  /** Bit 0: response; bit 1: one-way. */
  flag: number;
  language?: string;
  version?: number;
  remark?: string | null;
  extFields?: Record<string, string>;
  body?: Uint8Array;
}

export class RemotingProtocolError extends Error {
  override readonly name = 'RemotingProtocolError';
}

export function isResponse(cmd: RemotingCommand): boolean {
  return (cmd.flag & FLAG_RESPONSE) !== 0;
}

export function isOneway(cmd: RemotingCommand): boolean {
  return (cmd.flag & FLAG_ONEWAY) !== 0;
}

export function encodeCommand(cmd: RemotingCommand): Buffer {
  const header = Buffer.from(
    JSON.stringify({
      code: cmd.code,
      language: cmd.language ?? 'NODE_JS',
      version: cmd.version ?? 0,
      opaque: cmd.opaque,
      flag: cmd.flag,
      remark: cmd.remark ?? null,
      extFields: cmd.extFields ?? {},
      serializeTypeCurrentRPC: 'JSON',
    }),
    'utf8',
  );
  if (header.length > 0xffffff) throw new RemotingProtocolError('header too large');
  const bodyLength = cmd.body?.length ?? 0;
  const total = 4 + header.length + bodyLength;
  if (total + 4 > MAX_FRAME_BYTES)
    throw new RemotingProtocolError(`frame of ${total + 4} bytes exceeds 16 MiB`);
  const frame = Buffer.allocUnsafe(8 + header.length + bodyLength);
  frame.writeUInt32BE(total, 0);
  frame.writeUInt32BE(((SERIALIZE_JSON << 24) | header.length) >>> 0, 4);
  header.copy(frame, 8);
  if (cmd.body && bodyLength > 0) frame.set(cmd.body, 8 + header.length);
  return frame;
}

/** Decodes one frame's content (everything after the total-length field). */
export function decodeCommand(frame: Buffer): RemotingCommand {
  if (frame.length < 4) throw new RemotingProtocolError('frame shorter than its header-length field');
  const mark = frame.readUInt32BE(0);
  const serializeType = mark >>> 24;
  const headerLength = mark & 0xffffff;
  if (serializeType !== SERIALIZE_JSON) {
    throw new RemotingProtocolError(`serialize type ${serializeType} not supported (only JSON)`);
  }
  if (4 + headerLength > frame.length) {
    throw new RemotingProtocolError(`header length ${headerLength} exceeds frame of ${frame.length}`);
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(frame.toString('utf8', 4, 4 + headerLength)) as Record<string, unknown>;
  } catch (err) {
    throw new RemotingProtocolError(`header is not JSON: ${(err as Error).message}`);
  }
  if (typeof header.code !== 'number' || typeof header.opaque !== 'number') {
    throw new RemotingProtocolError('header lacks code or opaque');
  }
  const body = frame.subarray(4 + headerLength);
  return {
    code: header.code,
    opaque: header.opaque,
    flag: typeof header.flag === 'number' ? header.flag : 0,
    language: typeof header.language === 'string' ? header.language : undefined,
    version: typeof header.version === 'number' ? header.version : undefined,
    remark: typeof header.remark === 'string' ? header.remark : null,
    extFields: (header.extFields as Record<string, string> | undefined) ?? undefined,
    body: body.length > 0 ? body : undefined,
  };
}

/** Splits a TCP byte stream into commands; keeps partial frames until the rest arrives. */
export class CommandDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;

  push(data: Buffer): RemotingCommand[] {
    this.chunks.push(data);
    this.buffered += data.length;
    const out: RemotingCommand[] = [];
    for (;;) {
      if (this.buffered < 4) break;
      const head = this.peek(4);
      const length = head.readUInt32BE(0);
      if (length + 4 > MAX_FRAME_BYTES) {
        throw new RemotingProtocolError(`incoming frame of ${length + 4} bytes exceeds 16 MiB`);
      }
      if (this.buffered < 4 + length) break;
      const frame = this.take(4 + length);
      out.push(decodeCommand(frame.subarray(4)));
    }
    return out;
  }

  private peek(n: number): Buffer {
    if (this.chunks[0]!.length >= n) return this.chunks[0]!;
    const all = Buffer.concat(this.chunks);
    this.chunks = [all];
    return all;
  }

  private take(n: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    const frame = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered = rest.length;
    return frame;
  }
}

/**
 * Parses the JSON RocketMQ's servers write with fastjson, which is not always JSON: maps with
 * numeric keys come out unquoted (`"brokerAddrs":{0:"127.0.0.1:10911"}`). Quotes such keys, only
 * outside strings, then parses normally.
 */
export function parseServerJson<T = unknown>(data: Uint8Array | string): T {
  const text = typeof data === 'string' ? data : Buffer.from(data).toString('utf8');
  let out = '';
  let inString = false;
  let last = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped char
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) {
      inString = true;
      continue;
    }
    if (c === 0x7b || c === 0x2c) {
      // `{` or `,`: a key may follow. Bare integer key → quote it.
      let j = i + 1;
      while (j < text.length && /\s/.test(text[j]!)) j++;
      let k = j;
      if (text[k] === '-') k++;
      while (k < text.length && text.charCodeAt(k) >= 0x30 && text.charCodeAt(k) <= 0x39) k++;
      const digits = k - j - (text[j] === '-' ? 1 : 0);
      if (digits > 0) {
        let m = k;
        while (m < text.length && /\s/.test(text[m]!)) m++;
        if (text[m] === ':') {
          out += text.slice(last, j) + '"' + text.slice(j, k) + '"';
          last = k;
          i = k - 1;
        }
      }
    }
  }
  out += text.slice(last);
  return JSON.parse(out) as T;
}
