import { ReplyError } from 'ioredis';
import { CacheUnavailableError, InvalidCacheArgumentError } from './cache.errors';
import { toCacheError } from './redis.client';

describe('redis client', () => {
  it('toCacheError - connection failures become CacheUnavailableError, keeping the cause', () => {
    const cause = new Error('Connection is closed.');
    const mapped = toCacheError(cause);
    expect(mapped).toBeInstanceOf(CacheUnavailableError);
    expect(mapped.message).toContain('Connection is closed.');
    expect(mapped.cause).toBe(cause);
  });

  it('toCacheError - "not now" replies are unavailability, other replies are bugs', () => {
    for (const message of [
      'LOADING Redis is loading',
      'READONLY replica',
      'OOM command not allowed',
      'BUSY script',
    ]) {
      expect(toCacheError(new ReplyError(message))).toBeInstanceOf(CacheUnavailableError);
    }
    const bug = new ReplyError('WRONGTYPE Operation against a key holding the wrong kind of value');
    expect(toCacheError(bug)).toBe(bug);
  });

  it('toCacheError - the cache’s own errors pass through', () => {
    const invalid = new InvalidCacheArgumentError('bad');
    expect(toCacheError(invalid)).toBe(invalid);
  });
});
