import { FrameError } from './error-codes';
import { encodeFrame } from './frame.codec';
import { decodeWsFrame } from './ws-frame';

const frame = encodeFrame(0x0301, 5, Buffer.from('0801', 'hex'));

describe('decodeWsFrame', () => {
  it('ws frame - one binary message holding exactly one frame decodes', () => {
    const f = decodeWsFrame(frame, true);
    expect(f).toMatchObject({ length: 18, commandId: 0x0301, seq: 5 });
    expect(f.body.toString('hex')).toBe('0801');
  });

  it('ws frame - ArrayBuffer and fragment-array messages decode like a Buffer', () => {
    const ab = new Uint8Array(frame).buffer;
    expect(decodeWsFrame(ab, true).body.toString('hex')).toBe('0801');
    expect(decodeWsFrame([frame.subarray(0, 7), frame.subarray(7)], true).body.toString('hex')).toBe('0801');
  });

  it('ws frame - a text message is IM_ERR_WS_TEXT_MESSAGE', () => {
    expect(() => decodeWsFrame(frame, false)).toThrow(
      expect.objectContaining({ name: 'FrameError', code: 'IM_ERR_WS_TEXT_MESSAGE' }),
    );
  });

  it('ws frame - a length field larger than the message is IM_ERR_FRAME_LENGTH', () => {
    const truncated = frame.subarray(0, 17);
    expect(() => decodeWsFrame(truncated, true)).toThrow(
      expect.objectContaining({ code: 'IM_ERR_FRAME_LENGTH' }),
    );
  });

  it('ws frame - trailing bytes (or a second frame) in one message are IM_ERR_FRAME_LENGTH', () => {
    expect(() => decodeWsFrame(Buffer.concat([frame, Buffer.of(0)]), true)).toThrow(FrameError);
    expect(() => decodeWsFrame(Buffer.concat([frame, frame]), true)).toThrow(FrameError);
  });

  it('ws frame - a message shorter than the header is IM_ERR_FRAME_LENGTH', () => {
    expect(() => decodeWsFrame(frame.subarray(0, 15), true)).toThrow(
      expect.objectContaining({ code: 'IM_ERR_FRAME_LENGTH' }),
    );
  });

  it('ws frame - a message above maxFrameLength is IM_ERR_FRAME_LENGTH', () => {
    const big = encodeFrame(0x0301, 1, Buffer.alloc(100));
    expect(() => decodeWsFrame(big, true, { maxFrameLength: 64 })).toThrow(FrameError);
    expect(decodeWsFrame(big, true, { maxFrameLength: 116 }).length).toBe(116);
  });
});
