import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Cache } from '@mqim/cache';
import type { Logger } from '@mqim/config';

/** The web chat's files by URL path, as the composition built them (see @mqim/web). */
export type WebPage = ReadonlyMap<string, { readonly contentType: string; readonly body: Buffer }>;

export interface WebOptions {
  /** Resolves once the page is built; a failed build answers 503 and leaves the API untouched. */
  page: Promise<WebPage>;
  /**
   * Gate WebSocket URLs handed to the page (MQIM_WEB_GATE_URL, comma-separated). Empty: every
   * live gate's WebSocket port, on the host name the browser used to reach the api.
   */
  gateUrls: readonly string[];
}

const WS_PORT = /\bws:\/\/\S*?:(\d+)(\/\S*)?/;

/**
 * `/` serves the web chat, `/web/config.json` tells it where the gates are. The api builds no
 * page itself and holds no state for it: the page talks CIM to a gate like any client.
 */
export function registerWebRoutes(app: FastifyInstance, web: WebOptions, cache: Cache, logger: Logger): void {
  let page: WebPage | undefined;
  let failure: string | undefined;
  web.page.then(
    (built) => (page = built),
    (err: unknown) => {
      failure = err instanceof Error ? err.message : String(err);
      logger.error({ err: failure }, 'web chat not built; / answers 503');
    },
  );

  for (const path of ['/', '/app.js', '/app.css']) {
    app.get(path, async (_req, reply) => {
      const built = page ?? (failure === undefined ? await web.page.catch(() => undefined) : undefined);
      const file = built?.get(path);
      if (file === undefined) {
        return reply
          .code(503)
          .type('text/plain; charset=utf-8')
          .send(`web chat unavailable: ${failure ?? 'not built'}`);
      }
      // Built at start from the sources of this very process: a restart may change it.
      return reply.type(file.contentType).header('cache-control', 'no-cache').send(file.body);
    });
  }

  app.get('/web/config.json', async (req, reply) => {
    reply.header('cache-control', 'no-store');
    if (web.gateUrls.length > 0) return { gateUrls: web.gateUrls };
    const gates = (await cache.presence.list()).filter((i) => i.role === 'gate');
    const host = requestHost(req);
    const urls = new Set<string>();
    for (const gate of gates) {
      const match = gate.address === undefined ? null : WS_PORT.exec(gate.address);
      if (match) urls.add(`ws://${host}:${match[1]}${match[2] ?? '/ws'}`);
    }
    return { gateUrls: [...urls].sort() };
  });
}

/** The host name the browser used (without port), bracketed when it is IPv6. */
function requestHost(req: FastifyRequest): string {
  const host = req.hostname || '127.0.0.1';
  // fastify's hostname keeps the port for IPv4/names (`host:18080`) and brackets for IPv6.
  return host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.replace(/:\d+$/, '');
}
