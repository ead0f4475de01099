import { FrameError } from './error-codes';
import { encodeFrame, type Frame } from './frame.codec';
import { FrameDecoder } from './frame.decoder';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

interface Seen {
  commandId: number;
  seq: number;
  length: number;
  body: string;
}

const seen = (f: Frame): Seen => ({
  commandId: f.commandId,
  seq: f.seq,
  length: f.length,
  body: f.body.toString('hex'),
});

function decodeChunks(chunks: Buffer[], decoder = new FrameDecoder()): Seen[] {
  const out: Seen[] = [];
  for (const chunk of chunks) decoder.push(chunk, (f) => out.push(seen(f)));
  return out;
}

// Small deterministic PRNG so failures reproduce.
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 0x1_0000_0000;
  };
}

const heartbeat = encodeFrame(0x0105, 1);
const msg = encodeFrame(0x0301, 2, Buffer.from('0801120362' + '6f62', 'hex'));
const bigger = encodeFrame(0x0205, 3, Buffer.alloc(300, 0x5a));
const stream = Buffer.concat([heartbeat, msg, bigger, heartbeat]);
const expected = decodeChunks([stream]);

describe('FrameDecoder', () => {
  it('decoder - a chunk holding several frames yields each, in order', () => {
    expect(expected).toEqual([
      { commandId: 0x0105, seq: 1, length: 16, body: '' },
      { commandId: 0x0301, seq: 2, length: 23, body: '08011203626f62' },
      { commandId: 0x0205, seq: 3, length: 316, body: '5a'.repeat(300) },
      { commandId: 0x0105, seq: 1, length: 16, body: '' },
    ]);
  });

  it('decoder - the stream split in two at every byte position yields the same frames', () => {
    for (let i = 0; i <= stream.length; i++) {
      expect({ split: i, frames: decodeChunks([stream.subarray(0, i), stream.subarray(i)]) }).toEqual({
        split: i,
        frames: expected,
      });
    }
  });

  it('decoder - the stream split in three at every pair of positions yields the same frames', () => {
    const small = Buffer.concat([heartbeat, msg, heartbeat]);
    const want = decodeChunks([small]);
    for (let i = 0; i <= small.length; i++) {
      for (let j = i; j <= small.length; j++) {
        const got = decodeChunks([small.subarray(0, i), small.subarray(i, j), small.subarray(j)]);
        expect({ i, j, got }).toEqual({ i, j, got: want });
      }
    }
  });

  it('decoder - one byte at a time yields the same frames', () => {
    const chunks = Array.from(stream, (b) => Buffer.of(b));
    expect(decodeChunks(chunks)).toEqual(expected);
  });

  it('decoder - random chunkings of a long stream yield every frame exactly once', () => {
    const rnd = prng(42);
    const frames: Buffer[] = [];
    for (let n = 0; n < 500; n++) {
      const body = Buffer.alloc(Math.floor(rnd() * 200));
      for (let k = 0; k < body.length; k++) body[k] = Math.floor(rnd() * 256);
      frames.push(encodeFrame(0x0300 + (n % 8), n % 65536, body));
    }
    const all = Buffer.concat(frames);
    const want = frames.map((f) => decodeChunks([f])[0]);
    for (let round = 0; round < 20; round++) {
      const chunks: Buffer[] = [];
      for (let at = 0; at < all.length;) {
        const size = 1 + Math.floor(rnd() * 700);
        chunks.push(all.subarray(at, at + size));
        at += size;
      }
      expect(decodeChunks(chunks)).toEqual(want);
    }
  });

  it('decoder - many frames in one chunk', () => {
    const frames = Array.from({ length: 1000 }, (_, n) => encodeFrame(0x0302, n, Buffer.of(n & 0xff)));
    const got = new FrameDecoder().pushAll(Buffer.concat(frames));
    expect(got).toHaveLength(1000);
    expect(got.map((f) => f.seq)).toEqual(frames.map((_, n) => n));
    expect(got[999].body).toEqual(Buffer.of(999 & 0xff));
  });

  it('decoder - a frame inside one chunk is a zero-copy view of it', () => {
    const chunk = Buffer.concat([heartbeat, msg]);
    const [, frame] = new FrameDecoder().pushAll(chunk);
    expect(frame.body.buffer).toBe(chunk.buffer);
    expect(frame.body.byteOffset).toBe(chunk.byteOffset + heartbeat.length + 16);
  });

  it('decoder - a frame assembled across chunks owns its bytes', () => {
    const decoder = new FrameDecoder();
    const first = Buffer.from(msg.subarray(0, 10));
    const second = Buffer.from(msg.subarray(10));
    decoder.push(first, () => undefined);
    const [frame] = decoder.pushAll(second);
    first.fill(0);
    second.fill(0);
    expect(frame.body.toString('hex')).toBe('08011203626f62');
  });

  it('decoder - bufferedBytes counts what waits for the rest of a frame', () => {
    const decoder = new FrameDecoder();
    expect(decoder.pushAll(msg.subarray(0, 2))).toEqual([]);
    expect(decoder.bufferedBytes).toBe(2);
    expect(decoder.pushAll(msg.subarray(2, 20))).toEqual([]);
    expect(decoder.bufferedBytes).toBe(20);
    expect(decoder.pushAll(msg.subarray(20))).toHaveLength(1);
    expect(decoder.bufferedBytes).toBe(0);
  });

  it('decoder - an empty chunk changes nothing', () => {
    const decoder = new FrameDecoder();
    decoder.pushAll(msg.subarray(0, 5));
    expect(decoder.pushAll(Buffer.alloc(0))).toEqual([]);
    expect(decoder.pushAll(msg.subarray(5)).map(seen)).toEqual([expected[1]]);
  });

  it.each([0, 1, 15])('decoder - length %i (below the 16-byte header) is IM_ERR_FRAME_LENGTH', (length) => {
    const bad = Buffer.concat([hex('00000000'), hex('0001 0000 0000 0105 0001 0000')]);
    bad.writeUInt32BE(length, 0);
    expect(() => new FrameDecoder().pushAll(bad)).toThrow(
      expect.objectContaining({ name: 'FrameError', code: 'IM_ERR_FRAME_LENGTH' }),
    );
  });

  it('decoder - a bad length is reported as soon as its 4 bytes arrive, even split across chunks', () => {
    const decoder = new FrameDecoder();
    decoder.pushAll(hex('0000'));
    expect(() => decoder.pushAll(hex('00'))).not.toThrow();
    expect(() => decoder.pushAll(hex('0f'))).toThrow(FrameError);
  });

  it('decoder - a good frame before a bad length is still delivered', () => {
    const got: Frame[] = [];
    const decoder = new FrameDecoder();
    expect(() => decoder.push(Buffer.concat([heartbeat, hex('00000001')]), (f) => got.push(f))).toThrow(
      FrameError,
    );
    expect(got).toHaveLength(1);
  });

  it('decoder - a length above maxFrameLength is refused before anything is buffered', () => {
    const decoder = new FrameDecoder({ maxFrameLength: 64 });
    expect(decoder.pushAll(encodeFrame(0x0301, 1, Buffer.alloc(48)))).toHaveLength(1);
    expect(() => decoder.pushAll(hex('00000041'))).toThrow(
      expect.objectContaining({ code: 'IM_ERR_FRAME_LENGTH', message: expect.stringContaining('65') }),
    );
  });

  it('decoder - the default maximum is 1 MiB, inclusive', () => {
    const atMax = Buffer.alloc(1024 * 1024);
    atMax.writeUInt32BE(atMax.length, 0);
    expect(new FrameDecoder().pushAll(atMax)).toHaveLength(1);
    expect(() => new FrameDecoder().pushAll(hex('00100001'))).toThrow(FrameError);
    expect(() => new FrameDecoder().pushAll(hex('ffffffff'))).toThrow(FrameError);
  });

  it('decoder - rejects a maximum below the header size', () => {
    expect(() => new FrameDecoder({ maxFrameLength: 15 })).toThrow(RangeError);
  });

  it('decoder - after an error every later push fails too', () => {
    const decoder = new FrameDecoder();
    expect(() => decoder.pushAll(hex('00000002'))).toThrow(FrameError);
    expect(() => decoder.pushAll(heartbeat)).toThrow(FrameError);
  });

  it('decoder - a throwing frame handler fails the decoder instead of desynchronising it', () => {
    const decoder = new FrameDecoder();
    const boom = new Error('handler failed');
    expect(() =>
      decoder.push(Buffer.concat([heartbeat, heartbeat]), () => {
        throw boom;
      }),
    ).toThrow(boom);
    expect(() => decoder.pushAll(heartbeat)).toThrow(boom);
  });

  it('decoder - random bytes either frame consistently or fail with FrameError, nothing else', () => {
    const rnd = prng(7);
    const max = 4096;
    let failures = 0;
    for (let round = 0; round < 300; round++) {
      const decoder = new FrameDecoder({ maxFrameLength: max });
      const noise = Buffer.alloc(1 + Math.floor(rnd() * 2000));
      for (let k = 0; k < noise.length; k++) noise[k] = Math.floor(rnd() * 256);
      // Small leading length bytes now and then, so some rounds get past the first frame.
      if (round % 3 === 0) noise.writeUInt32BE(16 + Math.floor(rnd() * 64), 0);
      let at = 0;
      try {
        while (at < noise.length) {
          const size = 1 + Math.floor(rnd() * 300);
          decoder.push(noise.subarray(at, at + size), (f) => {
            expect(f.length).toBeGreaterThanOrEqual(16);
            expect(f.length).toBeLessThanOrEqual(max);
            expect(f.body.length).toBe(f.length - 16);
          });
          at += size;
        }
      } catch (err) {
        expect(err).toBeInstanceOf(FrameError);
        failures++;
      }
    }
    expect(failures).toBeGreaterThan(0);
  });
});

describe('FrameDecoder - maxFrameLength can change between frames', () => {
  it('a raised cap admits frames the lower one refused (a gate raises it after login)', () => {
    const big = encodeFrame(0x0301, 1, Buffer.alloc(2000));
    const low = new FrameDecoder({ maxFrameLength: 1024 });
    expect(() => low.pushAll(big.subarray(0, 8))).toThrow(FrameError);
    expect(low.bufferedBytes).toBe(0);

    const raised = new FrameDecoder({ maxFrameLength: 1024 });
    raised.maxFrameLength = 4096;
    expect(raised.pushAll(big)).toHaveLength(1);
  });
});
