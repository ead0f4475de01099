import { ConfigError, parseDuration, readConfig } from './env-schema';
import { checkMqimConfig, mqimSchema } from './mqim.schema';

describe('config - environment is validated at start-up', () => {
  it('config - defaults give a runnable standalone server', () => {
    const c = readConfig(mqimSchema, {});
    expect(c).toMatchObject({
      bus: 'memory',
      store: 'sqlite',
      cache: 'memory',
      gateTcpPort: 8000,
      gateWsPort: 8001,
      apiPort: 18080,
    });
    expect(c.heartbeatTimeoutMs).toBe(60_000);
  });

  it('config - a presence TTL shorter than two beat intervals is refused; the defaults pass', () => {
    expect(() => readConfig(mqimSchema, {}, checkMqimConfig)).not.toThrow();
    expect(() =>
      readConfig(mqimSchema, { MQIM_PRESENCE_INTERVAL: '20s', MQIM_PRESENCE_TTL: '15s' }, checkMqimConfig),
    ).toThrow(/MQIM_PRESENCE_TTL \(15000 ms\) must be at least twice MQIM_PRESENCE_INTERVAL/);
  });

  it('config - every bad variable is reported at once, by name', () => {
    try {
      readConfig(mqimSchema, {
        MQIM_BUS: 'kafka',
        MQIM_GATE_TCP_PORT: '70000',
        MQIM_LOGIN_TIMEOUT: 'soon',
        MQIM_SHARDS: 'four',
      });
      throw new Error('expected a ConfigError');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const text = (err as ConfigError).message;
      for (const v of ['MQIM_BUS', 'MQIM_GATE_TCP_PORT', 'MQIM_LOGIN_TIMEOUT', 'MQIM_SHARDS'])
        expect(text).toContain(v);
      expect((err as ConfigError).problems).toHaveLength(4);
    }
  });

  it('config - durations accept ms, s, m, h and bare milliseconds', () => {
    expect([
      parseDuration('250ms'),
      parseDuration('5s'),
      parseDuration('2m'),
      parseDuration('1h'),
      parseDuration('42'),
    ]).toEqual([250, 5000, 120_000, 3_600_000, 42]);
    expect(parseDuration('-1s')).toBeUndefined();
  });
});
