import { ImClientError } from '../im.errors';

export type ServerAddress = { kind: 'tcp'; host: string; port: number } | { kind: 'ws'; url: string };

/** The CIM default port (CoffeeChat clients hard-code it). */
const DEFAULT_TCP_PORT = 8000;

/**
 * `tcp://host:port` (port defaults to 8000) or `ws://host:port/ws` / `wss://…` (passed to the
 * WebSocket client unchanged).
 *
 * @throws ImClientError `IM_ERR_INVALID_ARGUMENT` for anything else.
 */
export function parseServerUrl(url: string): ServerAddress {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ImClientError('IM_ERR_INVALID_ARGUMENT', `not a server URL: ${JSON.stringify(url)}`);
  }
  switch (parsed.protocol) {
    case 'tcp:': {
      if (parsed.hostname === '') throw new ImClientError('IM_ERR_INVALID_ARGUMENT', `no host in ${url}`);
      // URL keeps IPv6 hosts bracketed; net.connect wants them bare.
      const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
      return { kind: 'tcp', host, port: parsed.port === '' ? DEFAULT_TCP_PORT : Number(parsed.port) };
    }
    case 'ws:':
    case 'wss:':
      return { kind: 'ws', url };
    default:
      throw new ImClientError(
        'IM_ERR_INVALID_ARGUMENT',
        `unsupported scheme ${parsed.protocol} in ${url}; use tcp://host:port or ws://host:port/ws`,
      );
  }
}
