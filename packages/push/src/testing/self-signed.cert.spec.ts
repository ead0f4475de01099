import { X509Certificate } from 'node:crypto';
import { derInteger, generateSelfSignedCert } from './self-signed.cert';

describe('derInteger', () => {
  it.each([
    ['05', '020105'],
    ['0005', '020105'],
    ['000000', '020100'],
    ['80', '02020080'],
    ['000080', '02020080'],
    ['7fff', '02027fff'],
  ])('encodes %s minimally as %s', (magnitude, der) => {
    expect(derInteger(Buffer.from(magnitude, 'hex')).toString('hex')).toBe(der);
  });
});

describe('generateSelfSignedCert', () => {
  // Random 8-byte serials starting with 0x00 (1 in 256) or with the top bit set used to produce
  // certificates that OpenSSL refused ("illegal padding") and made the APNs suite flaky.
  it.each(['0012345678abcdef', '00a2345678abcdef', 'f012345678abcdef', '0000000000000001'])(
    'produces a certificate OpenSSL parses for serial %s',
    (hex) => {
      const { cert } = generateSelfSignedCert('mqim test', Buffer.from(hex, 'hex'));
      const parsed = new X509Certificate(cert);
      expect(BigInt(`0x${parsed.serialNumber}`)).toBe(BigInt(`0x${hex}`));
      expect(parsed.checkIP('127.0.0.1')).toBe('127.0.0.1');
      expect(parsed.checkHost('localhost')).toBe('localhost');
    },
  );
});
