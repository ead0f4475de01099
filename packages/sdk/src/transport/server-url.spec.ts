import { parseServerUrl } from './server-url';

describe('parseServerUrl', () => {
  it('tcp - host and port, 8000 by default', () => {
    expect(parseServerUrl('tcp://127.0.0.1:9000')).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 9000 });
    expect(parseServerUrl('tcp://im.example.com')).toEqual({
      kind: 'tcp',
      host: 'im.example.com',
      port: 8000,
    });
    expect(parseServerUrl('tcp://[::1]:8000')).toEqual({ kind: 'tcp', host: '::1', port: 8000 });
  });

  it('ws - the URL as given', () => {
    expect(parseServerUrl('ws://localhost:8001/ws')).toEqual({ kind: 'ws', url: 'ws://localhost:8001/ws' });
    expect(parseServerUrl('wss://im.example.com/ws')).toEqual({ kind: 'ws', url: 'wss://im.example.com/ws' });
  });

  it('invalid - other schemes and junk are IM_ERR_INVALID_ARGUMENT', () => {
    expect(() => parseServerUrl('http://localhost:8000')).toThrow(
      expect.objectContaining({ code: 'IM_ERR_INVALID_ARGUMENT' }),
    );
    expect(() => parseServerUrl('localhost:8000')).toThrow(
      expect.objectContaining({ code: 'IM_ERR_INVALID_ARGUMENT' }),
    );
  });
});
