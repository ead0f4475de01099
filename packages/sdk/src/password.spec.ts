import { passwordMd5 } from './password';

describe('passwordMd5', () => {
  it('hashes a plain password to lower-case hex MD5', () => {
    expect(passwordMd5('secret')).toBe('5ebe2294ecd0e0f08eab7690d2a6ee69');
  });

  it('passes an MD5 through, lower-cased', () => {
    expect(passwordMd5('5EBE2294ECD0E0F08EAB7690D2A6EE69')).toBe('5ebe2294ecd0e0f08eab7690d2a6ee69');
  });
});
