import { ArgError, checkFlags, flag, parseDuration } from './analytics.args';

describe('analytics args - the flags of mqim tap and mqim events-sink', () => {
  it('parseDuration - reads the units the usage shows, and bare milliseconds', () => {
    expect(parseDuration('60s', '--interval')).toBe(60_000);
    expect(parseDuration('500ms', '--interval')).toBe(500);
    expect(parseDuration('1m', '--interval')).toBe(60_000);
    expect(parseDuration('1500', '--interval')).toBe(1500);
  });

  it('parseDuration - refuses what is not a duration instead of running with a default', () => {
    expect(() => parseDuration('soon', '--interval')).toThrow(ArgError);
    expect(() => parseDuration('10ms', '--interval')).toThrow(/at least 100ms/);
  });

  it('flag - both spellings; a flag without a value is an error', () => {
    expect(flag(['--group', 'g1'], '--group')).toBe('g1');
    expect(flag(['--group=g2'], '--group')).toBe('g2');
    expect(flag([], '--group')).toBeUndefined();
    expect(() => flag(['--group'], '--group')).toThrow(/needs a value/);
  });

  it('checkFlags - an unknown or misspelt flag is refused', () => {
    expect(() => checkFlags(['--group', 'g', '--interval', '60s'], ['--group', '--interval'])).not.toThrow();
    expect(() => checkFlags(['--intervall', '60s'], ['--group', '--interval'])).toThrow(
      /unknown flag --intervall/,
    );
  });
});
