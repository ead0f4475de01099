import {
  CommandDecoder,
  RemotingProtocolError,
  decodeCommand,
  encodeCommand,
  isOneway,
  isResponse,
  parseServerJson,
} from './remoting.codec';

describe('remoting codec', () => {
  it('frame - length, serialize type + header length, JSON header, body', () => {
    const body = Buffer.from('{"x":1}');
    const frame = encodeCommand({ code: 17, opaque: 42, flag: 0, extFields: { topic: 't' }, body });
    const total = frame.readUInt32BE(0);
    expect(total).toBe(frame.length - 4);
    const mark = frame.readUInt32BE(4);
    expect(mark >>> 24).toBe(0); // JSON
    const headerLength = mark & 0xffffff;
    const header = JSON.parse(frame.toString('utf8', 8, 8 + headerLength));
    expect(header).toMatchObject({
      code: 17,
      opaque: 42,
      flag: 0,
      language: 'NODE_JS',
      extFields: { topic: 't' },
    });
    expect(frame.subarray(8 + headerLength).equals(body)).toBe(true);
  });

  it('frame - decode(encode(x)) keeps every field', () => {
    const cmd = {
      code: 0,
      opaque: 7,
      flag: 1,
      language: 'JAVA',
      version: 473,
      remark: 'ok',
      extFields: { a: '1' },
      body: Buffer.from([0, 1, 2, 255]),
    };
    const decoded = decodeCommand(encodeCommand(cmd).subarray(4));
    expect(decoded).toEqual(cmd);
    expect(isResponse(decoded)).toBe(true);
    expect(isOneway(decoded)).toBe(false);
  });

  it('frame - a command without body decodes with body undefined', () => {
    const decoded = decodeCommand(encodeCommand({ code: 106, opaque: 1, flag: 2 }).subarray(4));
    expect(decoded.body).toBeUndefined();
    expect(isOneway(decoded)).toBe(true);
  });

  it('decoder - frames split at every byte and glued together come out whole and in order', () => {
    const frames = [1, 2, 3].map((n) =>
      encodeCommand({ code: 200, opaque: n, flag: 1, body: Buffer.alloc(n * 10, n) }),
    );
    const stream = Buffer.concat(frames);
    const decoder = new CommandDecoder();
    const out = [];
    for (let i = 0; i < stream.length; i++) out.push(...decoder.push(stream.subarray(i, i + 1)));
    expect(out.map((c) => c.opaque)).toEqual([1, 2, 3]);
    expect(out[2]!.body).toEqual(Buffer.alloc(30, 3));
    const again = new CommandDecoder().push(stream);
    expect(again.map((c) => c.opaque)).toEqual([1, 2, 3]);
  });

  it('decoder - refuses a frame length above 16 MiB and a non-JSON serialize type', () => {
    const huge = Buffer.alloc(8);
    huge.writeUInt32BE(64 * 1024 * 1024, 0);
    expect(() => new CommandDecoder().push(huge)).toThrow(RemotingProtocolError);
    const rocketmqType = Buffer.alloc(8);
    rocketmqType.writeUInt32BE((1 << 24) | 0, 0);
    expect(() => decodeCommand(rocketmqType.subarray(0, 4))).toThrow(/serialize type 1/);
  });

  it('decoder - a header length past the frame end is an error', () => {
    const bad = Buffer.alloc(4);
    bad.writeUInt32BE(100, 0);
    expect(() => decodeCommand(bad)).toThrow(/exceeds frame/);
  });

  it('server json - quotes fastjson bare integer keys, not digits inside strings', () => {
    const raw =
      '{"brokerAddrTable":{"broker-a":{"brokerAddrs":{0:"127.0.0.1:10911", -1 :"x"},"note":"{1:2}"}},"list":[1,2,{3:"y"}]}';
    expect(parseServerJson(raw)).toEqual({
      brokerAddrTable: { 'broker-a': { brokerAddrs: { '0': '127.0.0.1:10911', '-1': 'x' }, note: '{1:2}' } },
      list: [1, 2, { '3': 'y' }],
    });
    expect(parseServerJson(Buffer.from('{"a":"q\\"{5:1}"}'))).toEqual({ a: 'q"{5:1}' });
  });
});
