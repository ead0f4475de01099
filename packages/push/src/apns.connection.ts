import {
  connect,
  constants,
  type ClientHttp2Session,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type SecureClientSessionOptions,
} from 'node:http2';
import type { Logger } from '@mqim/config';

export interface Http2Response {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * One long-lived HTTP/2 session to APNs, as Apple asks of providers (opening a connection per
 * notification is treated as a denial-of-service attempt). Requests are multiplexed on it. When
 * the server sends GOAWAY, the session errors or closes, or a request times out (a half-open TCP
 * connection looks exactly like that), the session is dropped and the next request opens a fresh
 * one; streams already on the old session finish or fail on their own.
 */
export class ApnsConnection {
  private session?: ClientHttp2Session;
  /** Sessions opened so far; a reconnect shows up as an increment (logs, tests). */
  sessionsOpened = 0;

  constructor(
    private readonly endpoint: string,
    private readonly connectOptions: SecureClientSessionOptions,
    private readonly log: Logger,
  ) {}

  request(
    headers: OutgoingHttpHeaders,
    body: string,
    timeoutMs: number,
    signal: AbortSignal,
  ): Promise<Http2Response> {
    return new Promise((resolve, reject) => {
      let session: ClientHttp2Session;
      let stream: ReturnType<ClientHttp2Session['request']>;
      try {
        session = this.current();
        stream = session.request({ [constants.HTTP2_HEADER_METHOD]: 'POST', ...headers });
      } catch (err) {
        // The session was closing under us (GOAWAY just arrived): drop it, the retry reconnects.
        this.drop(this.session);
        reject(err);
        return;
      }
      let status = 0;
      let responseHeaders: IncomingHttpHeaders = {};
      let ended = false;
      let failure: Error | undefined;
      const chunks: string[] = [];
      const cancel = (why: Error): void => {
        failure ??= why;
        if (!stream.closed) stream.close(constants.NGHTTP2_CANCEL);
      };
      const timer = setTimeout(() => {
        cancel(new Error(`APNs request timed out after ${timeoutMs} ms`));
        this.drop(session);
      }, timeoutMs);
      const onAbort = (): void => cancel(new Error('aborted'));
      signal.addEventListener('abort', onAbort, { once: true });

      stream.setEncoding('utf8');
      stream.on('response', (h) => {
        status = Number(h[constants.HTTP2_HEADER_STATUS]);
        responseHeaders = h;
      });
      stream.on('data', (chunk: string) => chunks.push(chunk));
      stream.on('end', () => (ended = true));
      stream.on('error', (err) => (failure ??= err));
      stream.on('close', () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        if (status && ended && !failure) resolve({ status, headers: responseHeaders, body: chunks.join('') });
        else
          reject(failure ?? new Error(`APNs stream closed without a response (rst code ${stream.rstCode})`));
      });
      stream.end(body);
    });
  }

  async close(): Promise<void> {
    const s = this.session;
    this.session = undefined;
    if (!s || s.closed || s.destroyed) return;
    await new Promise<void>((resolve) => {
      // close() waits for open streams; the lifecycle has already cancelled ours, so this is short.
      const timer = setTimeout(() => s.destroy(), 2000);
      s.close(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private current(): ClientHttp2Session {
    const existing = this.session;
    if (existing && !existing.closed && !existing.destroyed) return existing;
    const s = connect(this.endpoint, this.connectOptions);
    this.sessionsOpened++;
    s.on('goaway', (errorCode, lastStreamID) => {
      this.log.info({ errorCode, lastStreamID }, 'APNs sent GOAWAY; reconnecting on next request');
      this.drop(s);
    });
    s.on('error', (err) => {
      this.log.warn({ err }, 'APNs session error');
      this.drop(s);
    });
    s.on('close', () => this.drop(s));
    this.session = s;
    return s;
  }

  private drop(s: ClientHttp2Session | undefined): void {
    if (!s || this.session !== s) return;
    this.session = undefined;
    if (!s.closed && !s.destroyed) s.close();
  }
}
