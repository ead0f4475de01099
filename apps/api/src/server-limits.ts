import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyHttpOptions } from 'fastify';
import type { Logger } from '@mqim/config';

/**
 * What one HTTP connection may cost the API (issue 10 #4: bodies trickled at 1 byte per 5 s held
 * sockets forever and ~20,000 of them filled the fd table). Every limit is a setting
 * (docs/configuration.md); 0 turns a timeout off, as in node.
 */
export interface ServerLimits {
  /** Largest request body; larger ones get 413. @default 65536 */
  bodyLimit: number;
  /** The whole request (headers and body) must arrive within this. @default 10000 */
  requestTimeoutMs: number;
  /** The request headers must arrive within this (slow-header connections). @default 5000 */
  headersTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. @default 5000 */
  keepAliveTimeoutMs: number;
  /** A socket with no traffic at all for this long is destroyed. @default 30000 */
  connectionTimeoutMs: number;
  /** Connections beyond this many open ones are dropped on accept. @default 1024 */
  maxConnections: number;
}

export const DEFAULT_SERVER_LIMITS: ServerLimits = {
  bodyLimit: 64 * 1024,
  requestTimeoutMs: 10_000,
  headersTimeoutMs: 5_000,
  keepAliveTimeoutMs: 5_000,
  connectionTimeoutMs: 30_000,
  maxConnections: 1024,
};

/** The Fastify constructor options that carry the limits. */
export function serverOptions(
  limits: ServerLimits,
  onClientError: (err: Error & { code?: string }, socket: Socket) => void,
): FastifyHttpOptions<Server> {
  const { requestTimeoutMs: request, headersTimeoutMs: headers } = limits;
  // node refuses headersTimeout > requestTimeout (when both are on); the smaller one wins anyway.
  const headersTimeout = request > 0 && (headers === 0 || headers > request) ? request : headers;
  // node enforces both timeouts from a periodic sweep (30 s by default), so a 5 s timeout could
  // take 35 s; sweep at a fraction of the shortest one instead.
  const shortest = Math.min(...[request, headersTimeout].filter((t) => t > 0), 30_000);
  return {
    bodyLimit: limits.bodyLimit,
    requestTimeout: request,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionTimeout: limits.connectionTimeoutMs,
    http: {
      headersTimeout,
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(shortest / 4))),
    },
    clientErrorHandler: onClientError,
  };
}

/**
 * Counts refused and timed-out connections and logs them: the first at once, then one summary
 * line per `everyMs` at most, so an attack cannot flood the log with one line per socket.
 */
export class ConnectionEventLog {
  private readonly counts = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly everyMs = 5_000,
  ) {}

  record(event: 'dropped' | 'request timeout' | 'idle timeout' | 'client error', detail: object): void {
    const first = this.counts.size === 0 && this.timer === undefined;
    this.counts.set(event, (this.counts.get(event) ?? 0) + 1);
    if (first) {
      this.logger.warn({ event, ...detail }, `api connection ${event}`);
      this.counts.clear();
      this.timer = setTimeout(() => this.flush(), this.everyMs);
      this.timer.unref();
    }
  }

  private flush(): void {
    this.timer = undefined;
    if (this.counts.size === 0) return;
    this.logger.warn(Object.fromEntries(this.counts), 'api connections refused or timed out');
    this.counts.clear();
    this.timer = setTimeout(() => this.flush(), this.everyMs);
    this.timer.unref();
  }

  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/**
 * Node's handling of a request that broke the rules before reaching a route (timeouts, malformed
 * HTTP), answered the way fastify's default handler does, plus a log line.
 */
export function clientErrorHandler(events: ConnectionEventLog) {
  return (err: Error & { code?: string }, socket: Socket): void => {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const timeout = err.code === 'ERR_HTTP_REQUEST_TIMEOUT';
    events.record(timeout ? 'request timeout' : 'client error', {
      code: err.code,
      remoteAddress: socket.remoteAddress,
    });
    const status = timeout ? '408 Request Timeout' : '400 Bad Request';
    const body = JSON.stringify({
      error: {
        code: timeout ? 'IM_ERR_TIMEOUT' : 'IM_ERR_INVALID_ARGUMENT',
        message: timeout ? 'request not received in time' : 'malformed HTTP request',
      },
    });
    if (socket.writable)
      socket.write(
        `HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
    socket.destroy();
  };
}
