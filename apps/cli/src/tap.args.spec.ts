import { ArgError } from './analytics.args';
import { parseTapArgs } from './tap.command';

describe('mqim tap - arguments', () => {
  it('args - --interval takes a duration, as the usage says; --interval-ms a number', () => {
    expect(parseTapArgs(['--interval', '30s'], 'p')).toEqual({ group: 'p-tap-example', intervalMs: 30_000 });
    expect(parseTapArgs(['--interval-ms', '1500', '--group', 'g'], 'p')).toEqual({
      group: 'g',
      intervalMs: 1500,
    });
    expect(parseTapArgs([], 'p').intervalMs).toBe(60_000);
  });

  it('args - a misspelt flag or a bad interval is an error, not silently ignored', () => {
    expect(() => parseTapArgs(['--intervall', '30s'], 'p')).toThrow(ArgError);
    expect(() => parseTapArgs(['--intervall', '30s'], 'p')).toThrow(/--intervall/);
    expect(() => parseTapArgs(['--interval', 'soon'], 'p')).toThrow(/--interval: "soon" is not a duration/);
    expect(() => parseTapArgs(['--interval-ms', '10'], 'p')).toThrow(/at least 100ms/);
  });
});
