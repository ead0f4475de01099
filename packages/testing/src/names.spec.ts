import { uniqueName } from './names';

describe('names', () => {
  it('uniqueName - valid as RocketMQ topic/group, Redis prefix and MySQL database name', () => {
    const name = uniqueName('Cache-Int.spec');
    expect(name).toMatch(/^cache_int_spec_[a-z0-9]{8}$/);
    expect(name.length).toBeLessThanOrEqual(64);
    expect(uniqueName('x'.repeat(200)).length).toBeLessThanOrEqual(64);
  });

  it('uniqueName - different on every call', () => {
    const names = new Set(Array.from({ length: 1000 }, () => uniqueName('t')));
    expect(names.size).toBe(1000);
  });

  it('uniqueName - rejects a prefix with nothing usable', () => {
    expect(() => uniqueName('--')).toThrow(/no usable character/);
  });
});
