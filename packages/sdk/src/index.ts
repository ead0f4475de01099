// Public entry of @mqim/sdk for Node: a TypeScript client for mqim (and any CIM server) over TCP
// or WebSocket. Browsers use @mqim/sdk/browser (WebSocket only, no Node modules). Everything else
// in this package is an implementation detail.

import type { ImClient, ImClientOptions } from './im.client';
import { createImClientOn } from './im-client.impl';
import { openTransport } from './transport/transport.factory';

/** Creates a client; nothing is opened until `connect()` or a login. URLs: `tcp://` or `ws://`. */
export function createImClient(options: ImClientOptions): ImClient {
  return createImClientOn(openTransport, options);
}

export * from './public';
