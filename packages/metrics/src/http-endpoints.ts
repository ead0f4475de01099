import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MqimMetrics } from './metrics';

export interface HealthSource {
  /** Resolves to a list of problems; empty = healthy. */
  check(): Promise<string[]>;
}

/**
 * `/metrics` and `/healthz` for roles that have no HTTP API of their own (gate, logic, job).
 * Plain node:http: a role's health port must not depend on anything that can be unhealthy.
 */
export async function startOpsServer(
  metrics: MqimMetrics,
  health: HealthSource,
  port: number,
  host = '0.0.0.0',
): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    if (req.url === '/metrics') {
      metrics.registry
        .metrics()
        .then((text) => {
          res.writeHead(200, { 'content-type': metrics.registry.contentType });
          res.end(text);
        })
        .catch((err: Error) => {
          res.writeHead(500);
          res.end(err.message);
        });
      return;
    }
    if (req.url === '/healthz') {
      health
        .check()
        .then((problems) => {
          res.writeHead(problems.length ? 503 : 200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ ok: problems.length === 0, problems }));
        })
        .catch((err: Error) => {
          res.writeHead(503, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ ok: false, problems: [err.message] }));
        });
      return;
    }
    res.writeHead(404);
    res.end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
