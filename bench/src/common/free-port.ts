import { createServer } from 'node:net';

/**
 * A loopback port that was free a moment ago (the OS picks it). Another process may take it
 * before our server binds it; the server then fails loudly, which is what we want.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = address !== null && typeof address !== 'string' ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('no port'))));
    });
  });
}
