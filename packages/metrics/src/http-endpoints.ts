import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MqimMetrics } from './metrics';

/** What `/readyz` asks: the role's dependencies. `/livez` asks nothing (the process answers). */
export interface HealthSource {
  /** Resolves to a list of problems, each naming its dependency ("redis: ..."); empty = ready. */
  check(): Promise<string[]>;
}

/**
 * The health routes every role serves. `/healthz` predates the split and stays an alias of
 * `/livez`: a liveness probe that failed on a dependency outage would restart healthy processes.
 */
export const LIVE_PATHS: readonly string[] = ['/livez', '/healthz'];
export const READY_PATH = '/readyz';

/** Status and body of `/readyz`. */
export async function readyReport(health: HealthSource): Promise<{ status: number; body: ReadyBody }> {
  let problems: string[];
  try {
    problems = await health.check();
  } catch (err) {
    problems = [`health: ${err instanceof Error ? err.message : String(err)}`];
  }
  return { status: problems.length ? 503 : 200, body: { ok: problems.length === 0, problems } };
}

export interface ReadyBody {
  ok: boolean;
  problems: string[];
}

/**
 * `/metrics`, `/livez` (`/healthz`) and `/readyz` for roles that have no HTTP API of their own (gate, logic, job).
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
    const path = (req.url ?? '').split('?')[0]!;
    if (LIVE_PATHS.includes(path)) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: true }));
      return;
    }
    if (path === READY_PATH) {
      void readyReport(health).then(({ status, body }) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
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
