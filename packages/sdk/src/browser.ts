// Public entry of @mqim/sdk for browsers (`@mqim/sdk/browser`): the same client over the
// platform's WebSocket, on Uint8Array and standard APIs only; it imports no Node module, no
// Buffer and not the server's generated code (docs/sdk.md states the bundle size).

import type { ImClient, ImClientOptions } from './im.client';
import { createImClientOn } from './im-client.impl';
import { openBrowserTransport } from './transport/browser-ws.transport';

/** Creates a client; nothing is opened until `connect()` or a login. URLs: `ws://` or `wss://`. */
export function createImClient(options: ImClientOptions): ImClient {
  return createImClientOn(openBrowserTransport, options);
}

export * from './public';
