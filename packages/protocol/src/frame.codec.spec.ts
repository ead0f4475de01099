import { FrameError } from './error-codes';
import { encodeFrame, FRAME_HEADER_LENGTH, readHeader, writeHeader } from './frame.codec';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('frame codec', () => {
  it('frame codec - a heartbeat is exactly the 16-byte header', () => {
    const frame = encodeFrame(0x0105, 1);
    expect(frame.toString('hex')).toBe('00000010' + '0001' + '0000' + '0000' + '0105' + '0001' + '0000');
  });

  it('frame codec - length counts the header, fields are big-endian, body follows unchanged', () => {
    const frame = encodeFrame(0x0301, 0x1234, hex('0a 03 61 62 63'));
    expect(frame.toString('hex')).toBe(
      '00000015' + '0001' + '0000' + '0000' + '0301' + '1234' + '0000' + '0a03616263',
    );
  });

  it('frame codec - the largest command id and seq fill both header bytes', () => {
    expect(encodeFrame(0xffff, 0xffff).toString('hex')).toBe('00000010000100000000ffffffff0000');
  });

  it('frame codec - an empty body and a zero-length body encode the same', () => {
    expect(encodeFrame(0x0105, 9, new Uint8Array(0))).toEqual(encodeFrame(0x0105, 9));
  });

  it('frame codec - refuses command ids and seqs that do not fit in 16 bits', () => {
    expect(() => encodeFrame(0x10000, 1)).toThrow(RangeError);
    expect(() => encodeFrame(0x0105, -1)).toThrow(RangeError);
    expect(() => encodeFrame(0x0105, 65536)).toThrow(RangeError);
    expect(() => encodeFrame(0x0105, 1.5)).toThrow(RangeError);
  });

  it('frame codec - readHeader reads every field, including the ones mqim never sets', () => {
    const header = readHeader(hex('00000020 0003 0102 0a0b 0510 fffe 7777'));
    expect(header).toEqual({
      length: 32,
      version: 3,
      flag: 0x0102,
      serviceId: 0x0a0b,
      commandId: 0x0510,
      seq: 0xfffe,
      reserved: 0x7777,
    });
  });

  it('frame codec - readHeader reads length fields above 2^31 as unsigned', () => {
    expect(readHeader(hex('ffffffff 0001 0000 0000 0105 0001 0000')).length).toBe(0xffffffff);
    expect(readHeader(hex('80000000 0001 0000 0000 0105 0001 0000')).length).toBe(0x80000000);
  });

  it('frame codec - readHeader at an offset', () => {
    const buf = Buffer.concat([hex('aabbcc'), encodeFrame(0x0302, 77, hex('0801'))]);
    expect(readHeader(buf, 3)).toMatchObject({ length: 18, commandId: 0x0302, seq: 77 });
  });

  it('frame codec - readHeader rejects fewer than 16 bytes with IM_ERR_FRAME_LENGTH', () => {
    const short = hex('00000010 0001 0000 0000 0105 0001 00');
    expect(() => readHeader(short)).toThrow(FrameError);
    expect(() => readHeader(short)).toThrow(expect.objectContaining({ code: 'IM_ERR_FRAME_LENGTH' }));
  });

  it('frame codec - writeHeader fills reserved space in place and sets the length to the buffer size', () => {
    const buf = Buffer.alloc(FRAME_HEADER_LENGTH + 2, 0xee);
    writeHeader(buf, 0x0514, 3);
    expect(buf.toString('hex')).toBe('000000120001000000000514' + '0003' + '0000' + 'eeee');
  });
});
