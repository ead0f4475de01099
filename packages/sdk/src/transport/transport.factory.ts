import { parseServerUrl } from './server-url';
import { TcpTransport } from './tcp.transport';
import type { Transport, TransportHandlers, TransportOptions } from './transport';
import { WsTransport } from './ws.transport';

/** Node's opener: the transport the URL's scheme names, `tcp://` or `ws://` / `wss://`. */
export function openTransport(
  url: string,
  handlers: TransportHandlers,
  options: TransportOptions,
): Promise<Transport> {
  const address = parseServerUrl(url);
  return address.kind === 'tcp'
    ? TcpTransport.open(address.host, address.port, handlers, options)
    : WsTransport.open(address.url, handlers, options);
}
