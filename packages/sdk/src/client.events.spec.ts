import { ClientEvents } from './client.events';
import type { ImClientEvents } from './im.client';

describe('ClientEvents', () => {
  const err = new Error('boom');
  const info: ImClientEvents['reconnectFailed'][0] = err;

  it('listeners - in the order added; once runs once; off removes', () => {
    const events = new ClientEvents();
    const seen: string[] = [];
    const b = () => seen.push('b');
    events.on('reconnectFailed', () => seen.push('a'));
    events.on('reconnectFailed', b);
    events.on('reconnectFailed', () => seen.push('once'), true);
    events.emit('reconnectFailed', info);
    events.off('reconnectFailed', b);
    events.emit('reconnectFailed', info);
    expect(seen).toEqual(['a', 'b', 'once', 'a']);
  });

  it('a throwing listener - the others still run, and the error surfaces on its own, not from emit', () => {
    jest.useFakeTimers();
    try {
      const events = new ClientEvents();
      const seen: string[] = [];
      events.on('reconnectFailed', () => {
        throw err;
      });
      events.on('reconnectFailed', () => seen.push('after'));
      expect(() => events.emit('reconnectFailed', info)).not.toThrow();
      expect(seen).toEqual(['after']);
      expect(() => jest.runOnlyPendingTimers()).toThrow(err);
    } finally {
      jest.useRealTimers();
    }
  });
});
