import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { connect, createServer } from 'node:tls';
import { generateSelfSignedCert } from './self-signed.cert';

describe('generateSelfSignedCert', () => {
  it('cert - names 127.0.0.1 and localhost and is valid now', async () => {
    const { cert } = await generateSelfSignedCert('mqim test');
    const parsed = new X509Certificate(cert);
    expect(parsed.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(parsed.checkHost('localhost')).toBe('localhost');
    expect(parsed.subject).toContain('CN=mqim test');
    expect(new Date(parsed.validFrom).getTime()).toBeLessThan(Date.now());
    expect(new Date(parsed.validTo).getTime()).toBeGreaterThan(Date.now() + 86_400_000);
  });

  it('cert - a TLS client that trusts it as its CA completes a handshake with a server using it', async () => {
    const { cert, key } = await generateSelfSignedCert();
    const server = createServer({ cert, key }, (socket) => socket.end('ok'));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const { port } = server.address() as AddressInfo;
      const socket = connect({ host: '127.0.0.1', port, ca: cert });
      await once(socket, 'secureConnect');
      expect(socket.authorized).toBe(true);
      socket.destroy();
    } finally {
      server.close();
    }
  });
});
