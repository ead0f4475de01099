import { generate } from 'selfsigned';

/**
 * A self-signed certificate for 127.0.0.1 / localhost, so the APNs fake can speak real TLS + ALPN
 * h2 without openssl on the test machine. Built by `selfsigned` (an EC P-256 key signed with
 * SHA-256, valid from an hour ago for a week, with the subjectAltName Node checks for an IP host):
 * the hand-written DER encoder it replaces produced certificates OpenSSL refused for 1 serial in
 * 256, which is how the APNs suite used to flake.
 */
export interface SelfSignedCert {
  /** PEM certificate; give it to clients as `ca`. */
  cert: string;
  /** PEM (PKCS#8) private key; give it to the server as `key`. */
  key: string;
}

export async function generateSelfSignedCert(commonName = 'mqim test'): Promise<SelfSignedCert> {
  const now = Date.now();
  const pems = await generate([{ name: 'commonName', value: commonName }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: new Date(now - 3_600_000),
    notAfterDate: new Date(now + 7 * 86_400_000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 7, ip: '127.0.0.1' },
          { type: 2, value: 'localhost' },
        ],
      },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}
